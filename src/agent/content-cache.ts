/**
 * Unit contents by hash, fetched once and parsed once: contents are immutable
 * per hash, so a hash seen in an offer is already cached when the assignment
 * arrives, and a content offered round after round is judged from the same
 * parsed file. Kept: contents of units on this host, and of open offers.
 */
import { readStoredUnit, type UnitFile } from '../unit/index.js';

/** Where contents come from: the agent's store (or the registry, which has the same read). */
export interface ContentSource {
  getContents(hashes: readonly string[]): Promise<Map<string, string>>;
}

export class ContentCache {
  private readonly texts = new Map<string, string>();
  /** A string in place of a file is why it could not be parsed. */
  private readonly parsed = new Map<string, UnitFile | string>();
  private offered: ReadonlySet<string> = new Set();

  constructor(private readonly source: ContentSource) {}

  async fetch(hashes: Iterable<string>): Promise<Map<string, string>> {
    const want = [...new Set(hashes)];
    const missing = want.filter((h) => !this.texts.has(h));
    if (missing.length > 0) {
      for (const [h, t] of await this.source.getContents(missing)) this.texts.set(h, t);
    }
    const out = new Map<string, string>();
    for (const h of want) {
      const t = this.texts.get(h);
      if (t !== undefined) out.set(h, t);
    }
    return out;
  }

  /** Parsed files; a string in place of a file is why it could not be parsed. */
  async files(hashes: Iterable<string>): Promise<Map<string, UnitFile | string>> {
    const out = new Map<string, UnitFile | string>();
    for (const [h, t] of await this.fetch(hashes)) {
      let file = this.parsed.get(h);
      if (file === undefined) {
        file = readStoredUnit(t);
        this.parsed.set(h, file);
      }
      out.set(h, file);
    }
    return out;
  }

  /** Contents of the offers open now: kept while the offers stand. */
  setOffered(hashes: ReadonlySet<string>): void {
    this.offered = hashes;
  }

  /** Forget contents no unit here and no open offer refers to any more. */
  retainOnly(hashes: ReadonlySet<string>): void {
    for (const h of this.texts.keys()) {
      if (hashes.has(h) || this.offered.has(h)) continue;
      this.texts.delete(h);
      this.parsed.delete(h);
    }
  }
}
