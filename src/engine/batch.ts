/**
 * The writes of one engine step, collected before they are sent as fenced
 * transactions: the registry's one write set (txn.ts, where the last write
 * to a key wins), plus whether it changes assignments.
 */
import { Writes } from '../registry/txn.js';

export class Batch extends Writes {
  /** Whether applying this batch changes assignments (the engine then waits for its watch to catch up). */
  touchesAssignments = false;
  /**
   * Keys that must be absent for the batch to apply: the records of units
   * whose assignments it deletes as destroyed. The engine's caches are
   * separate watches, so it can see an assignment before the unit record
   * written in the same transaction; etcd, not the cache, has the last word.
   */
  readonly requireAbsent = new Set<string>();

  /** Keys the batch puts, in key order. */
  putKeys(): string[] {
    return this.ops().flatMap((o) => (o.op === 'put' ? [o.key] : []));
  }

  /** Keys and prefixes the batch deletes. */
  deletedKeys(): string[] {
    return this.ops().flatMap((o) => (o.op === 'delete' ? [o.key] : o.op === 'deletePrefix' ? [o.prefix] : []));
  }
}
