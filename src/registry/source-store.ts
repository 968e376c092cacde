/**
 * The store side of sources (src/gitops): one consistent read of everything
 * a sync plans from, the sync's transactions (cut by sync-txns.ts), source
 * definitions, and inventories. Keys come from Keys, values from records.ts.
 */
import type { Etcd3 } from 'etcd3';
import { Keys } from './keys.js';
import {
  type InventoryRecord,
  type RolloutRecord,
  type RolloutStatus,
  type SourceRecord,
  type SourceStatusRecord,
  type UnitRecord,
  decodeInventory,
  decodeSource,
  decodeSourceStatus,
  decodeUnit,
  encode,
} from './records.js';
import { RolloutStore } from './rollout-store.js';
import { recordDecoders } from './records-at.js';
import type { TxnPlan } from './sync-txns.js';
import { type Condition, commitTxn, read, when, type StoredKey, type WriteOp } from './txn.js';
import { FlotillaError } from '../util/errors.js';

export interface RevisionedUnit extends UnitRecord {
  revision: number;
}

export interface Revisioned<T> {
  record: T;
  revision: number;
  /** The key exists but its value does not decode; `record` is a stand-in. */
  unreadable?: boolean;
}

export interface SyncSnapshot {
  units: Map<string, RevisionedUnit>;
  inventory: InventoryRecord[];
  definition: Revisioned<SourceRecord> | undefined;
  status: Revisioned<SourceStatusRecord> | undefined;
  /** The source's rollout record (P/rollouts/<source>); `record` undefined when it does not decode. */
  rollout: { record: RolloutRecord | undefined; revision: number } | undefined;
}

export interface SourceListing {
  definitions: SourceRecord[];
  statuses: Map<string, SourceStatusRecord>;
  /** Units each source owns (inventory entries). */
  owned: Map<string, number>;
}

/** A step of a sync found the cluster changed since the plan: nothing of that step was written. */
export class SyncRaceError extends FlotillaError {
  constructor(
    readonly step: number,
    readonly steps: number,
  ) {
    super(
      steps === 1
        ? 'the cluster changed while this sync was being written (a unit or the source was changed by someone else): nothing was changed; run the sync again'
        : `the cluster changed during step ${step} of ${steps} of this sync (a unit was changed, or another sync of this source started): steps before it are applied, every unit written is owned; run the sync again to finish`,
    );
  }
}

export class SourceStore {
  readonly keys: Keys;

  constructor(
    private readonly etcd: Etcd3,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Unit records, every inventory, and the source's definition and status, at one revision. */
  async readSyncSnapshot(source: string): Promise<SyncSnapshot> {
    const k = this.keys;
    const res = await commitTxn(this.etcd, {
      reads: [read.range(k.unitsPrefix), read.range(k.inventoryPrefix), read.get(k.source(source)), read.get(k.sourceStatus(source)), read.get(k.rollout(source))],
    });
    const kvs = (i: number): StoredKey[] => res.reads[i] ?? [];
    const units = new Map<string, RevisionedUnit>();
    for (const kv of kvs(0)) {
      const u = decodeUnit(kv.value);
      if (u && k.unit(u.name) === kv.key) units.set(u.name, { ...u, revision: kv.modRevision });
    }
    const one = <T>(kv: StoredKey | undefined, decode: (t: string) => T | undefined): Revisioned<T> | undefined => {
      const record = kv ? decode(kv.value) : undefined;
      return kv && record ? { record, revision: kv.modRevision } : undefined;
    };
    // A record that does not decode still has a revision: writes must be conditioned on it, not on absence.
    const definitionKv = kvs(2)[0];
    const statusKv = kvs(3)[0];
    const rolloutKv = kvs(4)[0];
    return {
      rollout: rolloutKv ? { record: recordDecoders(k).rollout(rolloutKv.value, rolloutKv.key), revision: rolloutKv.modRevision } : undefined,
      units,
      inventory: this.decodeInventory(kvs(1)),
      definition: one(definitionKv, decodeSource) ?? undecodable(definitionKv, source),
      status: one(statusKv, decodeSourceStatus) ?? (statusKv ? { record: { name: source }, revision: statusKv.modRevision, unreadable: true } : undefined),
    };
  }

  /**
   * Runs a sync's transactions in order. The intent step's revision fences
   * the later ones ('intent' guards). `extra` joins the conditions of EVERY
   * step: the engine's election fence, so a deposed leader writes nothing.
   * Returns the revision of the last step.
   */
  async applySync(plans: readonly TxnPlan[], extra: readonly Condition[] = []): Promise<number> {
    let intent = 0;
    let revision = 0;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i] as TxnPlan;
      const conditions = [...extra, ...p.guards.map((g) => when.modifiedAt(g.key, g.revision === 'intent' ? intent : g.revision))];
      const writes: WriteOp[] = [
        ...p.puts.map((o): WriteOp => ({ op: 'put', key: o.key, value: o.value })),
        ...p.deletes.map((key): WriteOp => ({ op: 'delete', key })),
      ];
      const res = await commitTxn(this.etcd, { conditions, writes });
      if (!res.succeeded) throw new SyncRaceError(i + 1, plans.length);
      revision = res.revision;
      if (i === 0) intent = revision;
    }
    return revision;
  }

  /** A source's rollout record alone (the rollout store's one-key read); undefined when absent or unreadable. */
  async getRollout(source: string): Promise<RolloutRecord | undefined> {
    return (await new RolloutStore(this.etcd, this.keys.prefix).read(source))?.record;
  }

  /** A source's status with the revision a write must be conditioned on (absent: undefined). */
  async getSourceStatus(name: string): Promise<Revisioned<SourceStatusRecord> | undefined> {
    const kv = (await commitTxn(this.etcd, { reads: [read.get(this.keys.sourceStatus(name))] })).reads[0]?.[0];
    if (!kv) return undefined;
    const record = decodeSourceStatus(kv.value);
    return record && record.name === name ? { record, revision: kv.modRevision } : { record: { name }, revision: kv.modRevision, unreadable: true };
  }

  /**
   * Writes a source's status if its key is still at `revision` (0 = absent)
   * and `extra` holds (the engine's fence). False when either failed.
   */
  async putSourceStatus(record: SourceStatusRecord, revision: number, extra: readonly Condition[] = []): Promise<boolean> {
    const key = this.keys.sourceStatus(record.name);
    const res = await commitTxn(this.etcd, { conditions: [...extra, when.modifiedAt(key, revision)], writes: [{ op: 'put', key, value: encode(record) }] });
    return res.succeeded;
  }

  async listSources(): Promise<SourceListing> {
    const k = this.keys;
    const res = await commitTxn(this.etcd, {
      reads: [read.range(k.sourcesPrefix), read.range(k.sourceStatusPrefix), read.range(k.inventoryPrefix, true), read.range(k.rolloutsPrefix)],
    });
    const kvs = (i: number): StoredKey[] => res.reads[i] ?? [];
    const definitions: SourceRecord[] = [];
    for (const kv of kvs(0)) {
      const d = decodeSource(kv.value);
      if (d && k.source(d.name) === kv.key) definitions.push(d);
    }
    const statuses = new Map<string, SourceStatusRecord>();
    for (const kv of kvs(1)) {
      const s = decodeSourceStatus(kv.value);
      if (s && k.sourceStatus(s.name) === kv.key) statuses.set(s.name, s);
    }
    // A rollout's progress lives in its own record (the driver writes it, not the status): summarised here.
    for (const kv of kvs(3)) {
      const r = recordDecoders(k).rollout(kv.value, kv.key);
      if (!r) continue;
      const status = statuses.get(r.source) ?? { name: r.source };
      statuses.set(r.source, { ...status, rollout: summarizeRollout(r) });
    }
    const owned = new Map<string, number>();
    for (const kv of kvs(2)) {
      const at = k.inventoryOfKey(kv.key);
      if (at) owned.set(at.source, (owned.get(at.source) ?? 0) + 1);
    }
    return { definitions: definitions.sort((a, b) => cmp(a.name, b.name)), statuses, owned };
  }

  async getSource(name: string): Promise<Revisioned<SourceRecord> | undefined> {
    const kv = (await commitTxn(this.etcd, { reads: [read.get(this.keys.source(name))] })).reads[0]?.[0];
    const record = kv ? decodeSource(kv.value) : undefined;
    return kv && record ? { record, revision: kv.modRevision } : undefined;
  }

  /** Stores a definition if the key is still at `revision` (0 = absent). False if someone else got there first. */
  async putSource(record: SourceRecord, revision: number): Promise<boolean> {
    const key = this.keys.source(record.name);
    const res = await commitTxn(this.etcd, { conditions: [when.modifiedAt(key, revision)], writes: [{ op: 'put', key, value: encode(record) }] });
    return res.succeeded;
  }

  /** Forgets a source: its definition, status, rollout and inventory (its units stay, owned by nobody). */
  async removeSource(name: string): Promise<boolean> {
    const k = this.keys;
    const res = await commitTxn(this.etcd, {
      writes: [
        { op: 'delete', key: k.source(name) },
        { op: 'delete', key: k.sourceStatus(name) },
        // Its rollout stops with it: the driver finds no record.
        { op: 'delete', key: k.rollout(name) },
        { op: 'deletePrefix', prefix: k.sourceInventoryPrefix(name) },
      ],
    });
    return res.deleted > 0;
  }

  /** Every source's inventory entries (unit -> owner and provenance). */
  async listInventory(): Promise<InventoryRecord[]> {
    const res = await commitTxn(this.etcd, { reads: [read.range(this.keys.inventoryPrefix)] });
    return this.decodeInventory(res.reads[0] ?? []);
  }

  /** Entries must agree with their keys: a copied value under another source's key owns nothing. */
  private decodeInventory(kvs: readonly StoredKey[]): InventoryRecord[] {
    const out: InventoryRecord[] = [];
    for (const kv of kvs) {
      const e = decodeInventory(kv.value);
      if (e && this.keys.inventory(e.source, e.unit) === kv.key) out.push(e);
    }
    return out;
  }
}

/** A rollout record as `flotctl sources` shows it: state, units done of all, the unit it stopped on. */
export function summarizeRollout(r: RolloutRecord): RolloutStatus {
  const stopped = r.units.find((u) => u.phase === 'failed') ?? r.units.find((u) => u.phase === 'reverted');
  const state = r.state === 'running' ? 'running' : r.state === 'done' ? 'succeeded' : r.units.some((u) => u.phase === 'reverted') ? 'reverted' : 'failed';
  const last = Math.max(0, ...r.units.map((u) => Math.max(u.startedAt ?? 0, u.healthySince ?? 0)));
  const out: RolloutStatus = { state, commit: r.commit, done: r.units.filter((u) => u.phase === 'done').length, total: r.units.length, at: last > 0 ? new Date(last).toISOString() : '' };
  if (stopped && r.state === 'failed') out.unit = stopped.name;
  return out;
}

/** A definition key holding garbage: keep its revision so a write must replace exactly it. */
function undecodable(kv: StoredKey | undefined, name: string): Revisioned<SourceRecord> | undefined {
  if (!kv) return undefined;
  return { record: { name, mode: 'push', repository: '', path: '', createdAt: '' }, revision: kv.modRevision, unreadable: true };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
