/**
 * The store side of sources (src/gitops): one consistent read of everything
 * a sync plans from, the sync's transactions (cut by sync-txns.ts), source
 * definitions, and inventories. Keys come from Keys, values from records.ts.
 */
import type { Etcd3, ICompare, IKeyValue, IRequestOp } from 'etcd3';
import { Keys } from './keys.js';
import {
  type InventoryRecord,
  type SourceRecord,
  type SourceStatusRecord,
  type UnitRecord,
  decodeInventory,
  decodeSource,
  decodeSourceStatus,
  decodeUnit,
  encode,
} from './records.js';
import type { TxnPlan } from './sync-txns.js';
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

const range = (prefix: string, keysOnly = false): IRequestOp => ({
  request_range: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), ...(keysOnly ? { keys_only: true } : {}) },
});
const get = (key: string): IRequestOp => ({ request_range: { key: Buffer.from(key) } });

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
    const res = await this.etcd.kv.txn({
      compare: [],
      success: [range(k.unitsPrefix), range(k.inventoryPrefix), get(k.source(source)), get(k.sourceStatus(source))],
      failure: [],
    });
    const kvs = (i: number): IKeyValue[] => res.responses[i]?.response_range?.kvs ?? [];
    const units = new Map<string, RevisionedUnit>();
    for (const kv of kvs(0)) {
      const u = decodeUnit(kv.value.toString());
      if (u && k.unit(u.name) === kv.key.toString()) units.set(u.name, { ...u, revision: Number(kv.mod_revision) });
    }
    const one = <T>(kv: IKeyValue | undefined, decode: (t: string) => T | undefined): Revisioned<T> | undefined => {
      const record = kv ? decode(kv.value.toString()) : undefined;
      return kv && record ? { record, revision: Number(kv.mod_revision) } : undefined;
    };
    // A record that does not decode still has a revision: writes must be conditioned on it, not on absence.
    const definitionKv = kvs(2)[0];
    const statusKv = kvs(3)[0];
    return {
      units,
      inventory: this.decodeInventory(kvs(1)),
      definition: one(definitionKv, decodeSource) ?? undecodable(definitionKv, source),
      status: one(statusKv, decodeSourceStatus) ?? (statusKv ? { record: { name: source }, revision: Number(statusKv.mod_revision), unreadable: true } : undefined),
    };
  }

  /**
   * Runs a sync's transactions in order. The intent step's revision fences
   * the later ones ('intent' guards). Returns the revision of the last step.
   */
  async applySync(plans: readonly TxnPlan[]): Promise<number> {
    let intent = 0;
    let revision = 0;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i] as TxnPlan;
      const compare: ICompare[] = p.guards.map((g) => ({
        key: Buffer.from(g.key),
        target: 'Mod',
        result: 'Equal',
        mod_revision: g.revision === 'intent' ? intent : g.revision,
      }));
      const success: IRequestOp[] = [
        ...p.puts.map((o) => ({ request_put: { key: Buffer.from(o.key), value: Buffer.from(o.value) } })),
        ...p.deletes.map((key) => ({ request_delete_range: { key: Buffer.from(key) } })),
      ];
      const res = await this.etcd.kv.txn({ compare, success, failure: [] });
      if (!res.succeeded) throw new SyncRaceError(i + 1, plans.length);
      revision = Number(res.header.revision);
      if (i === 0) intent = revision;
    }
    return revision;
  }

  async listSources(): Promise<SourceListing> {
    const k = this.keys;
    const res = await this.etcd.kv.txn({
      compare: [],
      success: [range(k.sourcesPrefix), range(k.sourceStatusPrefix), range(k.inventoryPrefix, true)],
      failure: [],
    });
    const kvs = (i: number): IKeyValue[] => res.responses[i]?.response_range?.kvs ?? [];
    const definitions: SourceRecord[] = [];
    for (const kv of kvs(0)) {
      const d = decodeSource(kv.value.toString());
      if (d && k.source(d.name) === kv.key.toString()) definitions.push(d);
    }
    const statuses = new Map<string, SourceStatusRecord>();
    for (const kv of kvs(1)) {
      const s = decodeSourceStatus(kv.value.toString());
      if (s && k.sourceStatus(s.name) === kv.key.toString()) statuses.set(s.name, s);
    }
    const owned = new Map<string, number>();
    for (const kv of kvs(2)) {
      const at = k.inventoryOfKey(kv.key.toString());
      if (at) owned.set(at.source, (owned.get(at.source) ?? 0) + 1);
    }
    return { definitions: definitions.sort((a, b) => cmp(a.name, b.name)), statuses, owned };
  }

  async getSource(name: string): Promise<Revisioned<SourceRecord> | undefined> {
    const res = await this.etcd.get(this.keys.source(name)).exec();
    const kv = res.kvs[0];
    const record = kv ? decodeSource(kv.value.toString()) : undefined;
    return kv && record ? { record, revision: Number(kv.mod_revision) } : undefined;
  }

  /** Stores a definition if the key is still at `revision` (0 = absent). False if someone else got there first. */
  async putSource(record: SourceRecord, revision: number): Promise<boolean> {
    const key = this.keys.source(record.name);
    const res = await this.etcd.if(key, 'Mod', '==', revision).then(this.etcd.put(key).value(encode(record))).commit();
    return res.succeeded;
  }

  /** Forgets a source: its definition, status and inventory (its units stay, owned by nobody). */
  async removeSource(name: string): Promise<boolean> {
    const k = this.keys;
    const res = await this.etcd.kv.txn({
      compare: [],
      success: [
        { request_delete_range: { key: Buffer.from(k.source(name)) } },
        { request_delete_range: { key: Buffer.from(k.sourceStatus(name)) } },
        { request_delete_range: { key: Buffer.from(k.sourceInventoryPrefix(name)), range_end: prefixEnd(k.sourceInventoryPrefix(name)) } },
      ],
      failure: [],
    });
    return res.responses.some((r) => Number(r.response_delete_range?.deleted ?? 0) > 0);
  }

  /** Every source's inventory entries (unit -> owner and provenance). */
  async listInventory(): Promise<InventoryRecord[]> {
    const res = await this.etcd.getAll().prefix(this.keys.inventoryPrefix).exec();
    return this.decodeInventory(res.kvs);
  }

  /** Entries must agree with their keys: a copied value under another source's key owns nothing. */
  private decodeInventory(kvs: readonly IKeyValue[]): InventoryRecord[] {
    const out: InventoryRecord[] = [];
    for (const kv of kvs) {
      const e = decodeInventory(kv.value.toString());
      if (e && this.keys.inventory(e.source, e.unit) === kv.key.toString()) out.push(e);
    }
    return out;
  }
}

/** A definition key holding garbage: keep its revision so a write must replace exactly it. */
function undecodable(kv: IKeyValue | undefined, name: string): Revisioned<SourceRecord> | undefined {
  if (!kv) return undefined;
  return { record: { name, mode: 'push', repository: '', path: '', createdAt: '' }, revision: Number(kv.mod_revision), unreadable: true };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
