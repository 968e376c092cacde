/**
 * The writes of one engine step, collected before they are sent as fenced
 * transactions: the registry's one write set (txn.ts, where the last write
 * to a key wins), plus whether it changes assignments.
 */
import { Writes } from '../registry/txn.js';

export class Batch extends Writes {
  /** Whether applying this batch changes assignments (the engine then waits for its watch to catch up). */
  touchesAssignments = false;

  /** Keys the batch puts, in key order. */
  putKeys(): string[] {
    return this.ops().flatMap((o) => (o.op === 'put' ? [o.key] : []));
  }

  /** Keys and prefixes the batch deletes. */
  deletedKeys(): string[] {
    return this.ops().flatMap((o) => (o.op === 'delete' ? [o.key] : o.op === 'deletePrefix' ? [o.prefix] : []));
  }
}
