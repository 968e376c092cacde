/**
 * P/unplaced/<unit>: why no machine takes a unit, for users. Only the engine
 * writes these keys (fenced), so it remembers what it wrote instead of
 * watching them: an identical record is never rewritten, and a record is
 * deleted once the unit is placed, destroyed or set inactive. After a failed
 * write the memory may be wrong, so it is re-read before the next use.
 *
 * Decisions do not touch the book: they draft changes (UnplacedDraft) on top
 * of what it remembers, and the applier records them once they are written.
 */
import type { Keys } from '../registry/keys.js';
import type { Registry } from '../registry/registry.js';
import { encode, type UnplacedRecord } from '../registry/records.js';
import type { Batch } from './batch.js';

/** Reasons are compared in key order, so an identical record is recognised whatever order it was built in. */
function signature(hash: string, reasons: Readonly<Record<string, string>>): string {
  return JSON.stringify([hash, Object.entries(reasons).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** One drafted change: the unit's record now has this signature, or (undefined) is deleted. */
export interface BookChange {
  unit: string;
  signature: string | undefined;
}

/** What the decisions may read of the book. */
export interface BookView {
  units(): Iterable<string>;
  signatureOf(unit: string): string | undefined;
}

export class UnplacedBook implements BookView {
  private readonly written = new Map<string, string>();
  private stale = true;

  constructor(private readonly registry: Registry) {}

  /** Forget what we think is stored; the next `load` re-reads it. */
  invalidate(): void {
    this.stale = true;
  }

  /** Re-read the records if the memory may be wrong. Returns the number of etcd requests made (0 or 1). */
  async load(): Promise<number> {
    if (!this.stale) return 0;
    const records = await this.registry.listUnplaced();
    this.written.clear();
    for (const r of records) this.written.set(r.unit, signature(r.hash, r.reasons));
    this.stale = false;
    return 1;
  }

  units(): IterableIterator<string> {
    return this.written.keys();
  }

  signatureOf(unit: string): string | undefined {
    return this.written.get(unit);
  }

  /** Remember drafted changes that were written. */
  record(changes: readonly BookChange[]): void {
    for (const c of changes) {
      if (c.signature === undefined) this.written.delete(c.unit);
      else this.written.set(c.unit, c.signature);
    }
  }
}

/** Changes to the book drafted by one decision, with the writes that make them, over what the book remembers. */
export class UnplacedDraft {
  readonly changes: BookChange[] = [];
  private readonly overlay = new Map<string, string | undefined>();

  constructor(
    private readonly book: BookView,
    private readonly keys: Keys,
    private readonly batch: Batch,
  ) {}

  private current(unit: string): string | undefined {
    return this.overlay.has(unit) ? this.overlay.get(unit) : this.book.signatureOf(unit);
  }

  set(unit: string, hash: string, reasons: Record<string, string>, at: Date): void {
    const sig = signature(hash, reasons);
    if (this.current(unit) === sig) return;
    const record: UnplacedRecord = { unit, hash, reasons, at: at.toISOString() };
    this.batch.put(this.keys.unplaced(unit), encode(record));
    this.overlay.set(unit, sig);
    this.changes.push({ unit, signature: sig });
  }

  clear(unit: string): void {
    if (this.current(unit) === undefined) return;
    this.batch.delete(this.keys.unplaced(unit));
    this.overlay.set(unit, undefined);
    this.changes.push({ unit, signature: undefined });
  }

  /** Units with a record, drafted changes included. */
  units(): string[] {
    const out = new Set<string>();
    for (const u of this.book.units()) if (this.current(u) !== undefined) out.add(u);
    for (const [u, sig] of this.overlay) if (sig !== undefined) out.add(u);
    return [...out];
  }
}
