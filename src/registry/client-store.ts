/**
 * What flotctl's client (src/client) may read, write and watch in the
 * cluster store, and nothing else: the client sees these methods and typed
 * records, never etcd3. The Registry implements it on etcd; tests wrap it
 * (e.g. to count the store calls a command makes).
 */
import type { Keys } from './keys.js';
import type { DesiredState, UnitRecord, UnitStateRecord, UnplacedRecord } from './records.js';
import { type MachineView, type PlacedAssignment, Registry } from './registry.js';
import type { SourceStore } from './source-store.js';
import { type StoreOptions, connectStore } from './store.js';

/** An etcd revision (int64, as etcd writes it: decimal). */
export type StoreRevision = string;

/** Stops a watch; resolves once no more callbacks will run. */
export type StopWatch = () => Promise<void>;

export interface PrefixWatchEvents {
  /** A key under the prefix was put or deleted. */
  changed(key: string): void;
  /** The stream reconnected or failed: events may have been lost, so whoever relies on them re-reads. */
  gap(): void;
}

export interface ClientStore {
  readonly keys: Keys;

  // --- reads: each one range request unless said otherwise -------------------
  getUnit(name: string): Promise<UnitRecord | undefined>;
  listUnits(): Promise<UnitRecord[]>;
  getContent(hash: string): Promise<string | undefined>;
  /** One transaction of gets per TXN_MAX_OPS hashes. */
  getContents(hashes: Iterable<string>): Promise<Map<string, string>>;
  listContents(): Promise<Map<string, string>>;
  /** Two range reads (machines and their dynamic metadata). */
  listMachines(): Promise<MachineView[]>;
  listMachineIds(): Promise<string[]>;
  getUnplaced(unit: string): Promise<UnplacedRecord | undefined>;
  listUnplaced(): Promise<UnplacedRecord[]>;
  /** One transaction of gets per TXN_MAX_OPS machines. */
  findAssignment(unit: string, machineIds: Iterable<string>): Promise<PlacedAssignment | undefined>;
  listAssignments(): Promise<PlacedAssignment[]>;
  listStates(unit?: string): Promise<UnitStateRecord[]>;

  // --- writes -------------------------------------------------------------------
  /** Content (if absent) and record in one transaction; resolves to that transaction's revision. */
  putUnit(record: UnitRecord, content: string): Promise<StoreRevision>;
  /** A read, then a compare-and-swap transaction (repeated if the record changed in between). */
  setDesiredState(name: string, desired: DesiredState): Promise<boolean>;
  destroyUnit(name: string): Promise<boolean>;
  updateMachineMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<void>;

  // --- watches ------------------------------------------------------------------
  /**
   * One watch of every key under `prefix`, from revision `from` when given
   * (so changes since a write of one's own are not missed even though the
   * watch is opened after it). Resolves once the watch is live.
   */
  watchPrefix(prefix: string, events: PrefixWatchEvents, from?: StoreRevision): Promise<StopWatch>;

  /** The source commands' side of the same store and connection. */
  sourceStore(): SourceStore;
  close(): void;
}

/** The client's store on its own etcd connection (timeouts and retries as every role's, see store.ts). */
export function connectClientStore(opts: StoreOptions & { prefix?: string }): ClientStore {
  return new Registry(connectStore(opts), opts.prefix);
}
