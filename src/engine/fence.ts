/**
 * The engine's fencing token: the create revision of its election key. Every
 * engine write is a transaction conditioned on that key still existing with
 * that create revision, so a deposed engine (paused, partitioned, or simply
 * slow) can never overwrite the decisions of its successor.
 */
import type { Etcd3, IOperation } from 'etcd3';
import { FencedWriteError } from '../util/errors.js';
import { TXN_MAX_OPS } from '../registry/registry.js';

export interface Fence {
  readonly candidateKey: string;
  readonly revision: number;
  /** The lease the election key hangs on; engine-owned ephemeral keys use it too. */
  readonly leaseId: string;
}

/**
 * Apply `ops` under the fence. Large batches are split into transactions of
 * at most TXN_MAX_OPS; each is atomic and individually fenced. Callers only
 * batch independent keys (one assignment each), so a partial batch is a valid
 * state that the next reconcile completes.
 */
/** A write's own precondition (not the fence) did not hold: nothing was written. */
export class PreconditionFailed extends Error {}

/**
 * Returns the store revision after the last transaction. `absentKeys` must
 * not exist for the write to apply (e.g. a machine key: a host that came
 * back keeps its units); if one exists, PreconditionFailed is thrown.
 */
export async function fencedWrite(etcd: Etcd3, fence: Fence, ops: readonly IOperation[], absentKeys: readonly string[] = []): Promise<number> {
  let revision = 0;
  for (let i = 0; i < ops.length; i += TXN_MAX_OPS) {
    const chunk = ops.slice(i, i + TXN_MAX_OPS);
    let txn = etcd.if(fence.candidateKey, 'Create', '==', fence.revision);
    for (const key of absentKeys) txn = txn.and(key, 'Create', '==', 0);
    const res = await txn.then(...chunk).commit();
    if (!res.succeeded) {
      if (absentKeys.length > 0) {
        const held = await etcd.get(fence.candidateKey).exec();
        if (Number(held.kvs[0]?.create_revision ?? 0) === fence.revision) throw new PreconditionFailed(`${absentKeys.join(', ')} exists`);
      }
      throw new FencedWriteError(`engine election key ${fence.candidateKey} is no longer at revision ${fence.revision}`);
    }
    revision = Number(res.header.revision);
  }
  return revision;
}
