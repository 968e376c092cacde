/**
 * Exactly what an agent may read, watch and write in the store, so that the
 * agent's code never holds the etcd client (only src/registry imports etcd3).
 *
 * Reads and watches: its own assignments and dynamic metadata, the open
 * offers, content by hash, and, while a returning copy is handed over, one
 * unit's record and the states other machines report for it.
 * Writes: only keys of its own machine, every one on its lease: the machine
 * key (claimed only if free or held by a lease of ours), its bids (only while
 * the offer stands) and its unit states. Transactions are built with txn.ts.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../util/log.js';
import { FlotillaError, StoreUnavailableError } from '../util/errors.js';
import type { Keys } from './keys.js';
import { LeaseKeeper } from './lease-keeper.js';
import { PrefixCache } from './prefix-cache.js';
import { encode, type AssignmentRecord, type BidRecord, type MachineRecord, type OfferRecord, type UnitRecord, type UnitStateRecord } from './records.js';
import { recordDecoders, type RecordDecoders } from './records-at.js';
import type { Registry } from './registry.js';
import { commitTxn, read, TXN_MAX_OPS, when, Writes, type Txn, type TxnResult } from './txn.js';

/** A write naming another machine's key: the agent's bug, never sent. */
export class NotThisMachineError extends FlotillaError {}

export class AgentStore {
  readonly keys: Keys;
  private readonly etcd: Etcd3;
  private readonly decode: RecordDecoders;

  constructor(
    private readonly registry: Registry,
    readonly machineId: string,
  ) {
    this.etcd = registry.etcd;
    this.keys = registry.keys;
    this.decode = recordDecoders(registry.keys);
  }

  // --- reads and watches ---------------------------------------------------

  /** The assignments of this machine (P/assignments/<machine>/), watched. */
  ownAssignments(log: Logger): PrefixCache<AssignmentRecord> {
    return new PrefixCache(this.etcd, this.keys.machineAssignmentsPrefix(this.machineId), this.decode.assignment, log);
  }

  /** The dynamic metadata users set for this machine (P/metadata/<machine>/), raw text per key, watched. */
  ownMetadata(log: Logger): PrefixCache<string> {
    return new PrefixCache(this.etcd, this.keys.machineMetadataPrefix(this.machineId), (text) => text, log);
  }

  /** The engine's open offers, watched. */
  offers(log: Logger): PrefixCache<OfferRecord> {
    return new PrefixCache(this.etcd, this.keys.offersPrefix, this.decode.offer, log);
  }

  /** What every machine reports for `unit` (a handover waits for its replacement), watched. */
  unitStates(unit: string, log: Logger): PrefixCache<UnitStateRecord> {
    return new PrefixCache(this.etcd, this.keys.unitStatesPrefix(unit), this.decode.state, log);
  }

  /** The record of `unit` alone (P/units/<unit>), watched: a prefix watch on the exact key, other keys it matches ignored. */
  unitRecord(unit: string, log: Logger): PrefixCache<UnitRecord> {
    const key = this.keys.unit(unit);
    return new PrefixCache(this.etcd, key, this.decode.unit, log, (k) => k === key);
  }

  /** Unit contents by hash; hashes not in the store are left out. */
  getContents(hashes: readonly string[]): Promise<Map<string, string>> {
    return this.registry.getContents(hashes);
  }

  /** The lease the machine key is on now; undefined: no key. */
  async machineKeyLease(deadlineMs: number): Promise<string | undefined> {
    const res = await this.commit({ reads: [read.get(this.keys.machine(this.machineId))] }, deadlineMs);
    return res.reads[0]?.[0]?.lease;
  }

  // --- writes: this machine's keys only, on its lease ------------------------

  /** A new lease, kept alive by the returned keeper. */
  grantLease(ttlSeconds: number, log: Logger, deadlineMs?: number): Promise<LeaseKeeper> {
    return LeaseKeeper.grant(this.etcd, ttlSeconds, log, deadlineMs);
  }

  /**
   * Put the machine record on `leaseId` if the key is free, or, with
   * `heldBy`, if it hangs on that lease ('0' or undefined: no lease, which
   * an absent key also has). Resolves whether it was written.
   */
  async putMachine(record: MachineRecord, leaseId: string, opts: { heldBy?: string | undefined; free?: boolean; deadlineMs: number }): Promise<boolean> {
    this.own(record.id);
    const key = this.keys.machine(record.id);
    const condition = opts.free ? when.absent(key) : when.leasedBy(key, opts.heldBy ?? '0');
    const res = await this.commit({ conditions: [condition], writes: new Writes().put(key, encode(record), leaseId) }, opts.deadlineMs);
    return res.succeeded;
  }

  /** Put this machine's bid on `leaseId`, only while its round's offer stands. Resolves whether it was written. */
  async putBid(bid: BidRecord, leaseId: string): Promise<boolean> {
    this.own(bid.machineId);
    const res = await this.commit({
      conditions: [when.present(this.keys.offer(bid.round))],
      writes: new Writes().put(this.keys.bid(bid.round, bid.machineId), encode(bid), leaseId),
    });
    return res.succeeded;
  }

  /** Write this machine's unit states on `leaseId` and delete those of `removed` units; independent keys, in transactions of at most TXN_MAX_OPS, sent together. */
  async writeStates(leaseId: string | undefined, states: readonly UnitStateRecord[], removed: readonly string[]): Promise<void> {
    const ops = new Writes();
    for (const unit of removed) ops.delete(this.keys.state(unit, this.machineId));
    for (const s of states) {
      this.own(s.machineId);
      if (leaseId === undefined) throw new Error(`cannot publish the state of ${s.unit} without a lease`);
      ops.put(this.keys.state(s.unit, this.machineId), encode(s), leaseId);
    }
    const all = ops.ops();
    const chunks: Promise<TxnResult>[] = [];
    for (let i = 0; i < all.length; i += TXN_MAX_OPS) chunks.push(this.commit({ writes: all.slice(i, i + TXN_MAX_OPS) }));
    await Promise.all(chunks);
  }

  private own(machineId: string): void {
    if (machineId !== this.machineId) throw new NotThisMachineError(`agent ${this.machineId} refused to write a key of machine ${machineId}`);
  }

  /**
   * One transaction; with a deadline, rejects with StoreUnavailableError if etcd
   * has not answered by then (the outcome is then unknown, as with an expired
   * gRPC deadline: callers check what the store holds before they retry).
   */
  private commit(txn: Txn, deadlineMs?: number): Promise<TxnResult> {
    const p = commitTxn(this.etcd, txn);
    if (deadlineMs === undefined) return p;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    // The answer after the deadline has no one waiting for it; its error is the deadline's.
    p.catch(() => undefined);
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }
}
