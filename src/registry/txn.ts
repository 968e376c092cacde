/**
 * The one way Flotilla builds an etcd transaction: named conditions, a set of
 * writes where the last write to a key wins, reads, and a commit that turns
 * them into etcd's protocol. Nothing outside src/registry builds etcd
 * requests; role stores (engine, agent, client) are written on this.
 *
 * Why last-write-wins: etcd rejects a transaction that names one key twice
 * ("duplicate key given in txn request"), and a step that deletes a key and
 * then re-puts it means the put.
 */
import type { Etcd3, ICompare, IKeyValue, IRequestOp } from 'etcd3';

/** etcd's default --max-txn-ops is 128; stay under it with room for conditions. */
export const TXN_MAX_OPS = 100;

/** What must hold of one key for a transaction to apply. */
export type Condition =
  | { readonly key: string; readonly is: 'absent' }
  | { readonly key: string; readonly is: 'present' }
  /** The key exists with this create revision (a fence, a lease-bound registration). */
  | { readonly key: string; readonly is: 'createdAt'; readonly revision: number }
  /** The key's last write was at this revision; 0 = the key must be absent. */
  | { readonly key: string; readonly is: 'modifiedAt'; readonly revision: number }
  /** The key hangs on this lease ('0': no lease, which is also what an absent key has). */
  | { readonly key: string; readonly is: 'leasedBy'; readonly lease: string }
  /** No key under `prefix` was written after `revision` (a cache at that revision is current; deletes are not seen). */
  | { readonly prefix: string; readonly is: 'unchangedSince'; readonly revision: number };

export const when = {
  absent: (key: string): Condition => ({ key, is: 'absent' }),
  present: (key: string): Condition => ({ key, is: 'present' }),
  createdAt: (key: string, revision: number): Condition => ({ key, is: 'createdAt', revision }),
  modifiedAt: (key: string, revision: number): Condition => ({ key, is: 'modifiedAt', revision }),
  leasedBy: (key: string, lease: string): Condition => ({ key, is: 'leasedBy', lease }),
  unchangedSince: (prefix: string, revision: number): Condition => ({ prefix, is: 'unchangedSince', revision }),
};

export type WriteOp =
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly lease?: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'deletePrefix'; readonly prefix: string };

export type ReadOp = { readonly op: 'get'; readonly key: string } | { readonly op: 'range'; readonly prefix: string; readonly keysOnly?: boolean };

export const read = {
  get: (key: string): ReadOp => ({ op: 'get', key }),
  range: (prefix: string, keysOnly = false): ReadOp => ({ op: 'range', prefix, keysOnly }),
};

/** A key as read, without etcd's wire types. */
export interface StoredKey {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}

/**
 * Writes collected before they are sent. Puts go out in key order, so the
 * writes under one prefix (a machine's assignments) land in the same
 * transaction of a chunked commit and wake one watcher once.
 */
export class Writes {
  private readonly puts = new Map<string, { value: string; lease: string | undefined }>();
  private readonly deletes = new Set<string>();
  private readonly prefixes = new Set<string>();

  put(key: string, value: string, lease?: string): this {
    this.deletes.delete(key);
    this.puts.set(key, { value, lease });
    return this;
  }

  delete(key: string): this {
    this.puts.delete(key);
    this.deletes.add(key);
    return this;
  }

  deletePrefix(prefix: string): this {
    this.prefixes.add(prefix);
    return this;
  }

  get size(): number {
    return this.puts.size + this.deletes.size + this.prefixes.size;
  }

  /** Move every write into `other` (later writes there win), leaving this empty; returns what was moved. */
  moveInto(other: Writes): Writes {
    const moved = new Writes();
    for (const key of this.deletes) (other.delete(key), moved.delete(key));
    for (const [key, { value, lease }] of this.puts) (other.put(key, value, lease), moved.put(key, value, lease));
    for (const prefix of this.prefixes) (other.deletePrefix(prefix), moved.deletePrefix(prefix));
    this.deletes.clear();
    this.puts.clear();
    this.prefixes.clear();
    return moved;
  }

  /** Every key written or deleted (prefixes as given), for logs. */
  keys(): string[] {
    return [...this.puts.keys(), ...this.deletes, ...this.prefixes];
  }

  /** Deletes, then puts in key order, then prefix deletes. */
  ops(): WriteOp[] {
    const out: WriteOp[] = [];
    for (const key of this.deletes) out.push({ op: 'delete', key });
    const puts = [...this.puts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, { value, lease }] of puts) out.push(lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease });
    for (const prefix of this.prefixes) out.push({ op: 'deletePrefix', prefix });
    return out;
  }
}

export interface Txn {
  readonly conditions?: readonly Condition[];
  readonly writes?: Writes | readonly WriteOp[];
  /** Run after the writes when the conditions hold, or alone when there are none. */
  readonly reads?: readonly ReadOp[];
  /** Run instead when a condition fails (e.g. to learn why). */
  readonly otherwise?: readonly ReadOp[];
}

export interface TxnResult {
  succeeded: boolean;
  /** The store's revision after the transaction. */
  revision: number;
  /** One entry per read of the branch that ran, in order. */
  reads: StoredKey[][];
  /** Keys removed by each delete of the branch that ran, summed. */
  deleted: number;
}

/** The key just past every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = (b[i] as number) + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

function compareOf(c: Condition): ICompare {
  // A range compare holds when every key in the range satisfies it (and when there is none).
  if (c.is === 'unchangedSince') return { key: Buffer.from(c.prefix), range_end: prefixEnd(c.prefix), target: 'Mod', result: 'Less', mod_revision: c.revision + 1 };
  const key = Buffer.from(c.key);
  switch (c.is) {
    case 'absent':
      return { key, target: 'Create', result: 'Equal', create_revision: 0 };
    case 'present':
      return { key, target: 'Create', result: 'Greater', create_revision: 0 };
    case 'createdAt':
      return { key, target: 'Create', result: 'Equal', create_revision: c.revision };
    case 'modifiedAt':
      return { key, target: 'Mod', result: 'Equal', mod_revision: c.revision };
    case 'leasedBy':
      return { key, target: 'Lease', result: 'Equal', lease: c.lease };
  }
}

function requestOf(o: WriteOp | ReadOp): IRequestOp {
  switch (o.op) {
    case 'put':
      return { request_put: { key: Buffer.from(o.key), value: Buffer.from(o.value), ...(o.lease !== undefined ? { lease: o.lease } : {}) } };
    case 'delete':
      return { request_delete_range: { key: Buffer.from(o.key) } };
    case 'deletePrefix':
      return { request_delete_range: { key: Buffer.from(o.prefix), range_end: prefixEnd(o.prefix) } };
    case 'get':
      return { request_range: { key: Buffer.from(o.key) } };
    case 'range':
      return { request_range: { key: Buffer.from(o.prefix), range_end: prefixEnd(o.prefix), ...(o.keysOnly ? { keys_only: true } : {}) } };
  }
}

export function storedKey(kv: IKeyValue): StoredKey {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: String(kv.lease),
  };
}

/** Commit one transaction (atomic). More than TXN_MAX_OPS operations is the caller's bug: see commitChunked. */
export async function commitTxn(etcd: Etcd3, txn: Txn): Promise<TxnResult> {
  const writes = txn.writes instanceof Writes ? txn.writes.ops() : (txn.writes ?? []);
  const reads = txn.reads ?? [];
  const ops = writes.length + reads.length;
  if (ops > TXN_MAX_OPS) throw new RangeError(`a transaction of ${ops} operations is over ${TXN_MAX_OPS}: cut it with commitChunked`);
  const res = await etcd.kv.txn({
    compare: (txn.conditions ?? []).map(compareOf),
    success: [...writes.map(requestOf), ...reads.map(requestOf)],
    failure: (txn.otherwise ?? []).map(requestOf),
  });
  const out: TxnResult = { succeeded: res.succeeded, revision: Number(res.header.revision), reads: [], deleted: 0 };
  for (const r of res.responses) {
    if (r.response_range) out.reads.push(r.response_range.kvs.map(storedKey));
    if (r.response_delete_range) out.deleted += Number(r.response_delete_range.deleted);
  }
  return out;
}

/** Where a chunked commit stopped: chunks before `chunk` (0-based) applied, this one and later did not. */
export interface ChunkRefused {
  chunk: number;
  chunks: number;
}

/**
 * Writes too many for one transaction, as several, each under the same
 * conditions and each atomic. Callers only chunk independent keys, so a
 * partial commit is a valid state the next step completes. Stops at the
 * first chunk whose conditions fail. Returns the revision after the last
 * applied chunk, or where it stopped.
 */
export async function commitChunked(
  etcd: Etcd3,
  conditions: readonly Condition[],
  writes: Writes | readonly WriteOp[],
  maxOps = TXN_MAX_OPS,
): Promise<{ revision: number; refused?: ChunkRefused }> {
  const ops = writes instanceof Writes ? writes.ops() : writes;
  const chunks = Math.max(1, Math.ceil(ops.length / maxOps));
  let revision = 0;
  for (let i = 0; i < chunks; i++) {
    const res = await commitTxn(etcd, { conditions, writes: ops.slice(i * maxOps, (i + 1) * maxOps) });
    if (!res.succeeded) return { revision, refused: { chunk: i, chunks } };
    revision = res.revision;
  }
  return { revision };
}

/** Reads too many for one transaction, chunked; each chunk is consistent in itself, not with the others. */
export async function readChunked(etcd: Etcd3, reads: readonly ReadOp[], maxOps = TXN_MAX_OPS): Promise<StoredKey[][]> {
  const out: StoredKey[][] = [];
  for (let i = 0; i < reads.length; i += maxOps) out.push(...(await commitTxn(etcd, { reads: reads.slice(i, i + maxOps) })).reads);
  return out;
}
