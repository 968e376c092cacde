/**
 * The engine's store (issue 9's per-role interfaces): what the engine and
 * its election may watch, read and write, built on the one transaction
 * builder (txn.ts), so src/engine imports nothing of etcd3.
 *
 * - watch: the prefixes the engine's caches follow (units, machines,
 *   metadata, assignments, bids, candidates);
 * - reads: unit contents and the unplaced records (Registry's shared reads);
 * - the election: a candidate key on the presence lease, deleted on resign;
 * - fencedWrite: every engine write, conditioned on the engine's election
 *   key still existing at the revision it was elected with.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../util/log.js';
import { FencedWriteError } from '../util/errors.js';
import type { Keys } from './keys.js';
import { PrefixCache } from './prefix-cache.js';
import type { UnplacedRecord } from './records.js';
import type { RecordDecoders } from './records-at.js';
import type { Registry } from './registry.js';
import { commitTxn, read, TXN_MAX_OPS, when, Writes, type Condition, type WriteOp } from './txn.js';

/**
 * The engine's fencing token: the create revision of its election key. Every
 * engine write is a transaction conditioned on that key still existing with
 * that create revision, so a deposed engine (paused, partitioned, or simply
 * slow) can never overwrite the decisions of its successor.
 */
export interface Fence {
  readonly candidateKey: string;
  readonly revision: number;
  /** The lease the election key hangs on; engine-owned ephemeral keys use it too. */
  readonly leaseId: string;
}

/**
 * A write's own precondition (not the fence) did not hold. A write of several
 * chunks stops at the chunk that failed: `committedAt` is the revision of the
 * last chunk applied before it (0: nothing was written).
 */
export class PreconditionFailed extends Error {
  constructor(
    message: string,
    readonly committedAt = 0,
  ) {
    super(message);
  }
}

function describe(c: Condition): string {
  return c.is === 'unchangedSince' ? `${c.prefix}* unchanged since ${c.revision}` : `${c.key} ${c.is}`;
}

export class EngineStore {
  readonly keys: Keys;
  readonly decode: RecordDecoders;
  private readonly etcd: Etcd3;

  constructor(private readonly registry: Registry) {
    this.keys = registry.keys;
    this.decode = registry.decode;
    this.etcd = registry.etcd;
  }

  /** A watch-fed cache of one prefix (start it to read, close it when done). */
  watch<T>(prefix: string, decode: (text: string, key: string) => T | undefined, log?: Logger): PrefixCache<T> {
    return new PrefixCache(this.etcd, prefix, decode, log);
  }

  getContents(hashes: Iterable<string>): Promise<Map<string, string>> {
    return this.registry.getContents(hashes);
  }

  listUnplaced(): Promise<UnplacedRecord[]> {
    return this.registry.listUnplaced();
  }

  /** Stand as a candidate: the key lives as long as the lease. */
  async putCandidate(key: string, machineId: string, leaseId: string): Promise<void> {
    await commitTxn(this.etcd, { writes: new Writes().put(key, machineId, leaseId) });
  }

  async deleteCandidate(key: string): Promise<void> {
    await commitTxn(this.etcd, { writes: new Writes().delete(key) });
  }

  /**
   * Apply `writes` under the fence. Large batches are split into
   * transactions of at most TXN_MAX_OPS; each is atomic and individually
   * fenced. Callers only batch independent keys (one assignment each), so a
   * partial batch is a valid state that the next step completes.
   *
   * Returns the store revision after the last transaction. `absentKeys` must
   * not exist for the write to apply (e.g. a machine key: a host that came
   * back keeps its units); if one exists, PreconditionFailed is thrown. A
   * refusal by the fence throws FencedWriteError.
   */
  /** `own`: the write's own preconditions besides the fence; if one fails, PreconditionFailed (nothing written). */
  async fencedWrite(fence: Fence, writes: Writes | readonly WriteOp[], own: readonly Condition[] = []): Promise<number> {
    const ops = writes instanceof Writes ? writes.ops() : writes;
    const conditions: Condition[] = [when.createdAt(fence.candidateKey, fence.revision), ...own];
    // When a write has its own preconditions, the failure branch reads the election key to tell which one failed.
    const otherwise = own.length > 0 ? [read.get(fence.candidateKey)] : [];
    let revision = 0;
    for (let i = 0; i < ops.length; i += TXN_MAX_OPS) {
      const res = await commitTxn(this.etcd, { conditions, writes: ops.slice(i, i + TXN_MAX_OPS), otherwise });
      if (!res.succeeded) {
        if (own.length > 0 && res.reads[0]?.[0]?.createRevision === fence.revision) throw new PreconditionFailed(own.map(describe).join(', '), revision);
        throw new FencedWriteError(`engine election key ${fence.candidateKey} is no longer at revision ${fence.revision}`);
      }
      revision = res.revision;
    }
    return revision;
  }
}
