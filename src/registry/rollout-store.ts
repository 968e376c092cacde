/**
 * The store side of rollouts (src/rollout): the record under
 * P/rollouts/<source>, what one driver pass reads (the record, the unit
 * records and contents it needs, the in-flight units' states), and the
 * pass's writes: unit records and the record itself, conditioned on the
 * revisions read and on the caller's fence. Keys from Keys, values from
 * records.ts, transactions from txn.ts.
 */
import type { Etcd3 } from 'etcd3';
import { Keys } from './keys.js';
import { type DesiredState, type RolloutRecord, type UnitStateRecord, decodeUnit, decodeUnitState, encode } from './records.js';
import { recordDecoders } from './records-at.js';
import { type Condition, type ReadOp, TXN_MAX_OPS, Writes, commitTxn, read, readChunked, when } from './txn.js';

export interface StoredRollout {
  source: string;
  /** undefined: the key holds something that does not decode. */
  record: RolloutRecord | undefined;
  revision: number;
}

export interface ClusterUnitRecord {
  hash: string;
  desired: DesiredState;
  revision: number;
}

/** What one driver pass decides from. */
export interface PassSnapshot {
  rollout: StoredRollout;
  /** Unit records of the rollout's units (absent: destroyed). */
  units: Map<string, ClusterUnitRecord>;
  /** States of the units asked for, per unit. */
  states: Map<string, UnitStateRecord[]>;
  /** Serialized contents of the hashes asked for (absent: missing). */
  contents: Map<string, string>;
}

export interface UnitWrite {
  unit: string;
  hash: string;
  desired: DesiredState;
  /** Mod revision of the unit record as read. */
  expect: number;
}

export class RolloutStore {
  readonly keys: Keys;

  constructor(
    private readonly etcd: Etcd3,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
  }

  /** Every rollout record, running or ended. */
  async list(): Promise<StoredRollout[]> {
    const res = await commitTxn(this.etcd, { reads: [read.range(this.keys.rolloutsPrefix)] });
    const out: StoredRollout[] = [];
    for (const kv of res.reads[0] ?? []) {
      const source = this.keys.rolloutOfKey(kv.key);
      if (source === undefined) continue;
      out.push({ source, record: this.decode(source, kv.value), revision: kv.modRevision });
    }
    return out;
  }

  async read(source: string): Promise<StoredRollout | undefined> {
    const kv = (await commitTxn(this.etcd, { reads: [read.get(this.keys.rollout(source))] })).reads[0]?.[0];
    return kv ? { source, record: this.decode(source, kv.value), revision: kv.modRevision } : undefined;
  }

  /**
   * The record, the unit records of `units`, the states of `observe` and the
   * contents of `hashes`. The record and unit records come from one
   * transaction when they fit; every write is conditioned on them anyway.
   */
  async readPass(source: string, units: readonly string[], observe: readonly string[], hashes: readonly string[]): Promise<PassSnapshot | undefined> {
    const k = this.keys;
    const reads: ReadOp[] = [read.get(k.rollout(source)), ...units.map((u) => read.get(k.unit(u))), ...observe.map((u) => read.range(k.unitStatesPrefix(u))), ...hashes.map((h) => read.get(k.content(h)))];
    const got = reads.length <= TXN_MAX_OPS ? (await commitTxn(this.etcd, { reads })).reads : await readChunked(this.etcd, reads);
    const rolloutKv = got[0]?.[0];
    if (!rolloutKv) return undefined;
    const snap: PassSnapshot = {
      rollout: { source, record: this.decode(source, rolloutKv.value), revision: rolloutKv.modRevision },
      units: new Map(),
      states: new Map(),
      contents: new Map(),
    };
    let i = 1;
    for (const name of units) {
      const kv = got[i++]?.[0];
      const u = kv ? decodeUnit(kv.value) : undefined;
      if (kv && u && u.name === name) snap.units.set(name, { hash: u.hash, desired: u.desired, revision: kv.modRevision });
    }
    for (const name of observe) {
      const states: UnitStateRecord[] = [];
      for (const kv of got[i++] ?? []) {
        const s = decodeUnitState(kv.value);
        const at = k.stateOfKey(kv.key);
        if (s && at && s.unit === name && at.unit === name && at.machineId === s.machineId) states.push(s);
      }
      snap.states.set(name, states);
    }
    for (const hash of hashes) {
      const kv = got[i++]?.[0];
      if (kv) snap.contents.set(hash, kv.value);
    }
    return snap;
  }

  /**
   * Starts (or replaces) a source's rollout if its key is still at
   * `revision` (0 = absent) and `extra` holds. False otherwise.
   */
  async start(record: RolloutRecord, revision: number, extra: readonly Condition[] = []): Promise<boolean> {
    const key = this.keys.rollout(record.source);
    const res = await commitTxn(this.etcd, { conditions: [...extra, when.modifiedAt(key, revision)], writes: [{ op: 'put', key, value: encode(record) }] });
    return res.succeeded;
  }

  /**
   * One pass's writes: the unit records, then the record, atomically when
   * they fit in one transaction. More unit writes than that go first, in
   * chunks (each under the fence and its units' revisions), the record last:
   * a pass cut short leaves the record as it was, and the next pass finds
   * the units already written (the driver reconciles a unit's phase with
   * its record). False if any condition failed; nothing of that chunk applied.
   */
  async commitPass(source: string, revision: number, record: RolloutRecord, writes: readonly UnitWrite[], extra: readonly Condition[] = []): Promise<boolean> {
    const k = this.keys;
    const rolloutKey = k.rollout(source);
    const room = TXN_MAX_OPS - 1;
    let rest = [...writes];
    while (rest.length > room) {
      const chunk = rest.slice(0, TXN_MAX_OPS);
      rest = rest.slice(TXN_MAX_OPS);
      if (!(await this.commitUnits(chunk, [...extra, when.modifiedAt(rolloutKey, revision)]))) return false;
    }
    const w = new Writes();
    for (const u of rest) w.put(k.unit(u.unit), encode({ name: u.unit, hash: u.hash, desired: u.desired }));
    w.put(rolloutKey, encode(record));
    const conditions = [...extra, when.modifiedAt(rolloutKey, revision), ...rest.map((u) => when.modifiedAt(k.unit(u.unit), u.expect))];
    return (await commitTxn(this.etcd, { conditions, writes: w })).succeeded;
  }

  private async commitUnits(chunk: readonly UnitWrite[], conditions: readonly Condition[]): Promise<boolean> {
    const w = new Writes();
    for (const u of chunk) w.put(this.keys.unit(u.unit), encode({ name: u.unit, hash: u.hash, desired: u.desired }));
    const res = await commitTxn(this.etcd, { conditions: [...conditions, ...chunk.map((u) => when.modifiedAt(this.keys.unit(u.unit), u.expect))], writes: w });
    return res.succeeded;
  }

  /** A record must agree with its key (recordDecoders' rule): a copy under another source's key is garbage. */
  private decode(source: string, value: string): RolloutRecord | undefined {
    return recordDecoders(this.keys).rollout(value, this.keys.rollout(source));
  }
}
