/**
 * Unit contents by hash, fetched once: contents are immutable per hash, so a
 * hash seen in an offer is already cached when the assignment arrives.
 */
import type { Registry } from '../registry/registry.js';
import { UnitFile } from '../unit/index.js';
import { errorMessage } from '../util/errors.js';

export class ContentCache {
  private readonly texts = new Map<string, string>();

  constructor(private readonly registry: Registry) {}

  async fetch(hashes: Iterable<string>): Promise<Map<string, string>> {
    const want = [...new Set(hashes)];
    const missing = want.filter((h) => !this.texts.has(h));
    if (missing.length > 0) {
      for (const [h, t] of await this.registry.getContents(missing)) this.texts.set(h, t);
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
      try {
        out.set(h, UnitFile.parse(t));
      } catch (err) {
        out.set(h, `stored unit file does not parse: ${errorMessage(err)}`);
      }
    }
    return out;
  }

  /** Forget contents no unit here refers to any more. */
  retainOnly(hashes: ReadonlySet<string>): void {
    for (const h of this.texts.keys()) if (!hashes.has(h)) this.texts.delete(h);
  }
}
