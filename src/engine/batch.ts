/**
 * The writes of one engine step, collected before they are sent as fenced
 * transactions. Keyed, so a step that both deletes and re-puts a key sends
 * one operation (etcd rejects a transaction naming a key twice).
 */
import type { Etcd3, IOperation } from 'etcd3';

export class Batch {
  private readonly puts = new Map<string, { value: string; lease: string | undefined }>();
  private readonly deletes = new Set<string>();
  private readonly prefixes = new Set<string>();
  /** Whether applying this batch changes assignments (the engine then waits for its watch to catch up). */
  touchesAssignments = false;

  put(key: string, value: string, lease?: string): void {
    this.deletes.delete(key);
    this.puts.set(key, { value, lease });
  }

  delete(key: string): void {
    this.puts.delete(key);
    this.deletes.add(key);
  }

  deletePrefix(prefix: string): void {
    this.prefixes.add(prefix);
  }

  get size(): number {
    return this.puts.size + this.deletes.size + this.prefixes.size;
  }

  /** Move every operation of this batch into `other`; returns a batch holding what was moved. */
  takeInto(other: Batch): Batch {
    const moved = new Batch();
    for (const key of this.deletes) (other.delete(key), moved.delete(key));
    for (const [key, { value, lease }] of this.puts) (other.put(key, value, lease), moved.put(key, value, lease));
    for (const prefix of this.prefixes) (other.deletePrefix(prefix), moved.deletePrefix(prefix));
    this.deletes.clear();
    this.puts.clear();
    this.prefixes.clear();
    return moved;
  }

  /** Keys the batch puts, in key order. */
  putKeys(): string[] {
    return [...this.puts.keys()].sort();
  }

  /** Keys and prefixes the batch deletes. */
  deletedKeys(): string[] {
    return [...this.deletes, ...this.prefixes];
  }

  /** Every key the batch writes or deletes (prefixes end in '/'), for logs. */
  keys(): string[] {
    return [...this.puts.keys(), ...this.deletes, ...this.prefixes];
  }

  /**
   * Puts in key order: a machine's assignments are adjacent, so they land in
   * the same transaction and its agent is woken once for all of them.
   */
  ops(etcd: Etcd3): IOperation[] {
    const out: IOperation[] = [];
    for (const key of this.deletes) out.push(etcd.delete().key(key));
    const puts = [...this.puts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, { value, lease }] of puts) {
      const op = etcd.put(key).value(value);
      out.push(lease === undefined ? op : op.lease(lease));
    }
    for (const prefix of this.prefixes) out.push(etcd.delete().prefix(prefix));
    return out;
  }
}
