/**
 * Typed access to the store for the user-facing operations (the client
 * library) and for the reads every role shares. Engine-only fenced writes live
 * with the engine; agent-only lease-bound writes live with the agent. Both
 * build keys with `Keys` and values with `records.ts`, never by hand.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { ClientStore, PrefixWatchEvents, StopWatch, StoreRevision } from './client-store.js';
import { Keys } from './keys.js';
import {
  type AssignmentRecord,
  type DesiredState,
  type MachineRecord,
  type UnitRecord,
  type UnitStateRecord,
  type UnplacedRecord,
  encode,
} from './records.js';
import { type KeyedDecoder, type RecordDecoders, recordDecoders } from './records-at.js';
import { decodeDynamicMetadata, mergeMetadata } from './metadata-overlay.js';
import { SourceStore } from './source-store.js';
import { RolloutStore } from './rollout-store.js';
import { errorMessage } from '../util/errors.js';
import { TXN_MAX_OPS, Writes, commitTxn, read, readChunked, when } from './txn.js';

export { TXN_MAX_OPS };

export interface MachineView extends MachineRecord {
  /** Config metadata overlaid with dynamic metadata (empty value = removed). */
  effectiveMetadata: Record<string, string>;
}

export interface PlacedAssignment extends AssignmentRecord {
  machineId: string;
}

function decodeAll<T>(kvs: IKeyValue[], decode: KeyedDecoder<T>): T[] {
  const out: T[] = [];
  for (const kv of kvs) {
    const v = decode(kv.value.toString(), kv.key.toString());
    if (v !== undefined) out.push(v);
  }
  return out;
}

export class Registry implements ClientStore {
  readonly keys: Keys;
  /** Every record read here is decoded against the key it was read from. */
  readonly decode: RecordDecoders;

  constructor(
    readonly etcd: Etcd3,
    prefix?: string,
  ) {
    this.keys = new Keys(prefix);
    this.decode = recordDecoders(this.keys);
  }

  // --- units -------------------------------------------------------------

  async getUnit(name: string): Promise<UnitRecord | undefined> {
    const key = this.keys.unit(name);
    const text = await this.etcd.get(key).string();
    return text === null ? undefined : this.decode.unit(text, key);
  }

  async listUnits(): Promise<UnitRecord[]> {
    const res = await this.etcd.getAll().prefix(this.keys.unitsPrefix).exec();
    return decodeAll(res.kvs, this.decode.unit).sort((a, b) => a.name.localeCompare(b.name));
  }

  async getContent(hash: string): Promise<string | undefined> {
    const text = await this.etcd.get(this.keys.content(hash)).string();
    return text ?? undefined;
  }

  /** Contents for many hashes: one transaction of gets per chunk (etcd caps ops per txn). */
  async getContents(hashes: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(hashes)];
    const found = await readChunked(this.etcd, wanted.map((h) => read.get(this.keys.content(h))));
    const out = new Map<string, string>();
    found.forEach((kvs, i) => {
      const kv = kvs[0];
      if (kv) out.set(wanted[i] as string, kv.value);
    });
    return out;
  }

  /** Every stored content, by hash: one range read, cheaper than per-hash gets when most units are wanted. */
  async listContents(): Promise<Map<string, string>> {
    const res = await this.etcd.getAll().prefix(this.keys.contentPrefix).exec();
    const out = new Map<string, string>();
    for (const kv of res.kvs) {
      const hash = this.keys.contentOfKey(kv.key.toString());
      if (hash !== undefined) out.set(hash, kv.value.toString());
    }
    return out;
  }

  /**
   * Store a unit: its content (immutable, written only if absent) and its
   * record, in one transaction so a crash never leaves a record pointing at
   * missing content. Resolves to the transaction's revision, from which a
   * watch can start so nothing after this write is missed.
   *
   * Built with etcd3's fluent transaction rather than txn.ts: the record is
   * written on both branches, and txn.ts's `otherwise` takes reads only.
   * Writing the content unconditionally instead would rewrite immutable
   * content (a watch event and an MVCC copy per submit), and two
   * transactions would cost start its one-transaction budget whenever
   * the content is shared (template instances).
   */
  async putUnit(record: UnitRecord, content: string): Promise<StoreRevision> {
    const contentKey = this.keys.content(record.hash);
    const putRecord = this.etcd.put(this.keys.unit(record.name)).value(encode(record));
    const res = await this.etcd
      .if(contentKey, 'Create', '==', 0)
      .then(this.etcd.put(contentKey).value(content), putRecord)
      .else(this.etcd.put(this.keys.unit(record.name)).value(encode(record)))
      .commit();
    return res.header.revision;
  }

  /**
   * Change a unit's desired state. Compare-and-swap on the record's revision
   * so a concurrent replace of the unit is never undone.
   * Returns false if the unit does not exist.
   */
  async setDesiredState(name: string, desired: DesiredState): Promise<boolean> {
    const key = this.keys.unit(name);
    for (;;) {
      const kv = (await this.etcd.get(key).exec()).kvs[0];
      if (!kv) return false;
      const current = this.decode.unit(kv.value.toString(), key);
      if (!current) return false;
      if (current.desired === desired) return true;
      const txn = await commitTxn(this.etcd, {
        conditions: [when.modifiedAt(key, Number(kv.mod_revision))],
        writes: new Writes().put(key, encode({ ...current, desired })),
      });
      if (txn.succeeded) return true;
    }
  }

  /** Remove a unit from the cluster. Returns false if it did not exist. */
  async destroyUnit(name: string): Promise<boolean> {
    const res = await this.etcd.delete().key(this.keys.unit(name)).exec();
    return Number(res.deleted) > 0;
  }

  // --- machines ------------------------------------------------------------

  async listMachines(): Promise<MachineView[]> {
    const [machines, dynamic] = await Promise.all([
      this.etcd.getAll().prefix(this.keys.machinesPrefix).exec(),
      this.etcd.getAll().prefix(this.keys.metadataPrefix).strings(),
    ]);
    const overlay = decodeDynamicMetadata(this.keys, Object.entries(dynamic).map(([key, value]) => ({ key, value })));
    return decodeAll(machines.kvs, this.decode.machine)
      .map((m) => ({ ...m, effectiveMetadata: mergeMetadata(m.metadata, overlay.get(m.id)) }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Ids of registered machines, keys only: O(machines) however many units exist. */
  async listMachineIds(): Promise<string[]> {
    const keys = await this.etcd.getAll().prefix(this.keys.machinesPrefix).keys();
    const out: string[] = [];
    for (const key of keys) {
      const id = this.keys.machineOfKey(key);
      if (id !== undefined) out.push(id);
    }
    return out.sort();
  }

  /** Dynamic metadata: survives the machine leaving; overrides its config metadata. */
  async setMachineMetadata(machineId: string, key: string, value: string): Promise<void> {
    await this.etcd.put(this.keys.machineMetadata(machineId, key)).value(value).exec();
  }

  /** An empty value is a tombstone: it also hides a key the machine's config sets (fleet's semantics). */
  async removeMachineMetadata(machineId: string, key: string): Promise<void> {
    await this.etcd.put(this.keys.machineMetadata(machineId, key)).value('').exec();
  }

  /**
   * Several keys of one machine in one transaction, so a command that sets
   * some and removes others never leaves half of them applied. Removal writes
   * the tombstone, as removeMachineMetadata does. At most TXN_MAX_OPS keys.
   */
  async updateMachineMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<void> {
    const writes = new Writes();
    for (const [k, v] of Object.entries(set)) writes.put(this.keys.machineMetadata(machineId, k), v);
    for (const k of remove) writes.put(this.keys.machineMetadata(machineId, k), '');
    if (writes.size > TXN_MAX_OPS) throw new RangeError(`at most ${TXN_MAX_OPS} metadata keys per update`);
    if (writes.size > 0) await commitTxn(this.etcd, { writes });
  }

  // --- placement problems ----------------------------------------------------

  async getUnplaced(unit: string): Promise<UnplacedRecord | undefined> {
    const key = this.keys.unplaced(unit);
    const text = await this.etcd.get(key).string();
    return text === null ? undefined : this.decode.unplaced(text, key);
  }

  async listUnplaced(): Promise<UnplacedRecord[]> {
    const res = await this.etcd.getAll().prefix(this.keys.unplacedPrefix).exec();
    return decodeAll(res.kvs, this.decode.unplaced).sort((a, b) => a.unit.localeCompare(b.unit));
  }

  // --- assignments and states ----------------------------------------------

  /**
   * The assignment of one unit, looked up on the given machines only
   * (assignments are keyed by machine first, so a lookup by unit alone would
   * scan every assignment). Lowest machine id wins if there are several.
   */
  async findAssignment(unit: string, machineIds: Iterable<string>): Promise<PlacedAssignment | undefined> {
    const ids = [...new Set(machineIds)].sort();
    // Chunk by chunk rather than readChunked: the first chunk with a hit answers.
    for (let i = 0; i < ids.length; i += TXN_MAX_OPS) {
      const chunk = ids.slice(i, i + TXN_MAX_OPS);
      const res = await commitTxn(this.etcd, { reads: chunk.map((m) => read.get(this.keys.assignment(m, unit))) });
      for (let j = 0; j < chunk.length; j++) {
        const kv = res.reads[j]?.[0];
        const a = kv ? this.decode.assignment(kv.value, kv.key) : undefined;
        if (a) return { ...a, machineId: chunk[j] as string };
      }
    }
    return undefined;
  }

  async listAssignments(): Promise<PlacedAssignment[]> {
    const res = await this.etcd.getAll().prefix(this.keys.assignmentsPrefix).exec();
    const out: PlacedAssignment[] = [];
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      const a = this.decode.assignment(kv.value.toString(), key);
      const at = a && this.keys.assignmentOfKey(key);
      if (at) out.push({ ...a, machineId: at.machineId });
    }
    return out;
  }

  async listStates(unit?: string): Promise<UnitStateRecord[]> {
    const prefix = unit === undefined ? this.keys.statesPrefix : this.keys.unitStatesPrefix(unit);
    const res = await this.etcd.getAll().prefix(prefix).exec();
    return decodeAll(res.kvs, this.decode.state).sort(
      (a, b) => a.unit.localeCompare(b.unit) || a.machineId.localeCompare(b.machineId),
    );
  }

  // --- watches and the rest of the connection ---------------------------------

  /**
   * If etcd has compacted the history since `from` away (it says so when the
   * watch is created, or right after), the watch starts again from now and
   * `gap` tells the caller to re-read: what it would have been told is in
   * the store's current state.
   */
  async watchPrefix(prefix: string, events: PrefixWatchEvents, from?: StoreRevision): Promise<StopWatch> {
    let current: Watcher | undefined;
    let stopped = false;
    const open = async (start: StoreRevision | undefined): Promise<Watcher> => {
      const builder = this.etcd.watch().prefix(prefix);
      if (start !== undefined) builder.startRevision(start);
      const w = await builder.create();
      w.on('put', (kv) => events.changed(kv.key.toString()));
      w.on('delete', (kv) => events.changed(kv.key.toString()));
      w.on('connected', () => events.gap());
      w.on('error', (err) => {
        // etcd cancels a watch whose start is compacted; any other error the watcher recovers from itself.
        if (stopped || !isCompacted(err)) return events.gap();
        open(undefined).then(
          (next) => {
            current = next;
            if (stopped) void next.cancel();
            // Live again: anything missed since is in what the caller reads now.
            else events.gap();
          },
          // The connection is down as well: the caller's safety re-reads go on until it is stopped.
          () => undefined,
        );
      });
      return w;
    };
    try {
      current = await open(from);
    } catch (err) {
      if (from === undefined || !isCompacted(err)) throw err;
      current = await open(undefined);
      events.gap();
    }
    return async () => {
      stopped = true;
      await current?.cancel();
    };
  }

  sourceStore(): SourceStore {
    return new SourceStore(this.etcd, this.keys.prefix);
  }

  rolloutStore(): RolloutStore {
    return new RolloutStore(this.etcd, this.keys.prefix);
  }

  close(): void {
    this.etcd.close();
  }
}

function isCompacted(err: unknown): boolean {
  return /compacted/.test(errorMessage(err));
}
