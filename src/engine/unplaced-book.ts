/**
 * P/unplaced/<unit>: why no machine takes a unit, for users. Only the engine
 * writes these keys (fenced), so it remembers what it wrote instead of
 * watching them: an identical record is never rewritten, and a record is
 * deleted once the unit is placed, destroyed or set inactive. After a failed
 * write the memory may be wrong, so it is re-read before the next use.
 */
import type { Registry } from '../registry/registry.js';
import { encode, type UnplacedRecord } from '../registry/records.js';
import type { Batch } from './batch.js';

/** Reasons are compared in key order, so an identical record is recognised whatever order it was built in. */
function signature(hash: string, reasons: Readonly<Record<string, string>>): string {
  return JSON.stringify([hash, Object.entries(reasons).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

export class UnplacedBook {
  private readonly written = new Map<string, string>();
  private stale = true;

  constructor(private readonly registry: Registry) {}

  /** Forget what we think is stored; the next `load` re-reads it. */
  invalidate(): void {
    this.stale = true;
  }

  /** Returns the number of etcd requests made (0 or 1). */
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

  set(batch: Batch, unit: string, hash: string, reasons: Record<string, string>, at: Date): void {
    const sig = signature(hash, reasons);
    if (this.written.get(unit) === sig) return;
    const record: UnplacedRecord = { unit, hash, reasons, at: at.toISOString() };
    batch.put(this.registry.keys.unplaced(unit), encode(record));
    this.written.set(unit, sig);
  }

  clear(batch: Batch, unit: string): void {
    if (!this.written.delete(unit)) return;
    batch.delete(this.registry.keys.unplaced(unit));
  }
}
