/**
 * What flotctl's client (src/client) may read, write and watch in the
 * cluster store, and nothing else: the client sees these methods and typed
 * records, never etcd3. The Registry implements it on etcd; tests wrap it
 * (e.g. to count the store calls a command makes).
 */
import { isBrokenCircuitError } from 'cockatiel';
import {
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCNotImplementedError,
  GRPCUnavailableError,
  isRecoverableError,
} from 'etcd3';
import { FlotillaError, StoreRefusedError, StoreUnreachableError } from '../util/errors.js';
import type { Keys } from './keys.js';
import type { DesiredState, InventoryRecord, RolloutRecord, SourceRecord, UnitRecord, UnitStateRecord, UnplacedRecord } from './records.js';
import { type MachineView, type PlacedAssignment, Registry } from './registry.js';
import type { Revisioned, SourceListing, SourceStore, SyncSnapshot } from './source-store.js';
import { diagnoseEndpoints, explainRefusal } from './store-diagnosis.js';
import { DAEMON_CREDENTIAL_NAMES, type StoreSecurity } from './store-security.js';
import { type StoreOptions, connectStore } from './store.js';
import type { TxnPlan } from './sync-txns.js';

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
  sourceStore(): SourceStoreCalls;
  close(): void;
}

/** What the source commands use of SourceStore. */
export type SourceStoreCalls = Pick<
  SourceStore,
  'keys' | 'readSyncSnapshot' | 'getRollout' | 'applySync' | 'listSources' | 'getSource' | 'putSource' | 'removeSource' | 'listInventory'
>;

// --- on etcd ----------------------------------------------------------------------

export interface ClientStoreOptions extends StoreOptions {
  /** Key prefix; defaults to the registry's. */
  prefix?: string;
}

/**
 * The client's store on its own etcd connection (timeouts and retries as
 * every role's, see store.ts). Every call's etcd error is turned into a
 * typed one (see explainStoreError) before the client sees it.
 */
export function connectClientStore(opts: ClientStoreOptions): ClientStore {
  const registry = new Registry(connectStore(opts), opts.prefix);
  return new EtcdClientStore(registry, {
    endpoints: opts.endpoints,
    // connectStore's default, named in the messages it explains.
    requestTimeoutMs: opts.requestTimeoutMs ?? 5000,
    prefix: registry.keys.prefix,
    ...(opts.security ? { security: opts.security } : {}),
  });
}

/** The client's store on a registry that already exists (flotillad's API serves on its own connection). */
export function clientStoreOver(registry: Registry, ctx: StoreContext): ClientStore {
  return new EtcdClientStore(registry, ctx);
}

class EtcdClientStore implements ClientStore {
  readonly keys: Keys;

  constructor(
    private readonly registry: Registry,
    private readonly ctx: StoreContext,
  ) {
    this.keys = registry.keys;
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw await explainStoreError(err, this.ctx);
    }
  }

  getUnit(name: string): Promise<UnitRecord | undefined> { return this.guard(() => this.registry.getUnit(name)); }
  listUnits(): Promise<UnitRecord[]> { return this.guard(() => this.registry.listUnits()); }
  getContent(hash: string): Promise<string | undefined> { return this.guard(() => this.registry.getContent(hash)); }
  getContents(hashes: Iterable<string>): Promise<Map<string, string>> { return this.guard(() => this.registry.getContents(hashes)); }
  listContents(): Promise<Map<string, string>> { return this.guard(() => this.registry.listContents()); }
  listMachines(): Promise<MachineView[]> { return this.guard(() => this.registry.listMachines()); }
  listMachineIds(): Promise<string[]> { return this.guard(() => this.registry.listMachineIds()); }
  getUnplaced(unit: string): Promise<UnplacedRecord | undefined> { return this.guard(() => this.registry.getUnplaced(unit)); }
  listUnplaced(): Promise<UnplacedRecord[]> { return this.guard(() => this.registry.listUnplaced()); }
  findAssignment(unit: string, machineIds: Iterable<string>): Promise<PlacedAssignment | undefined> {
    return this.guard(() => this.registry.findAssignment(unit, machineIds));
  }
  listAssignments(): Promise<PlacedAssignment[]> { return this.guard(() => this.registry.listAssignments()); }
  listStates(unit?: string): Promise<UnitStateRecord[]> { return this.guard(() => this.registry.listStates(unit)); }

  putUnit(record: UnitRecord, content: string): Promise<StoreRevision> { return this.guard(() => this.registry.putUnit(record, content)); }
  setDesiredState(name: string, desired: DesiredState): Promise<boolean> { return this.guard(() => this.registry.setDesiredState(name, desired)); }
  destroyUnit(name: string): Promise<boolean> { return this.guard(() => this.registry.destroyUnit(name)); }
  updateMachineMetadata(machineId: string, set: Readonly<Record<string, string>>, remove: readonly string[]): Promise<void> {
    return this.guard(() => this.registry.updateMachineMetadata(machineId, set, remove));
  }

  /** Watch creation has no gRPC deadline (it is a stream), so it is bounded here. */
  watchPrefix(prefix: string, events: PrefixWatchEvents, from?: StoreRevision): Promise<StopWatch> {
    return this.guard(async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreUnreachableError(this.ctx.endpoints, noAnswer(this.ctx.requestTimeoutMs))), this.ctx.requestTimeoutMs);
      });
      const stop = await Promise.race([this.registry.watchPrefix(prefix, events, from), timeout]).finally(() => clearTimeout(timer));
      // A watch whose cancel fails is gone with its stream anyway; the caller only wants it stopped.
      return () => stop().catch(() => undefined);
    });
  }

  sourceStore(): SourceStoreCalls {
    const store = this.registry.sourceStore();
    return {
      keys: store.keys,
      readSyncSnapshot: (source: string): Promise<SyncSnapshot> => this.guard(() => store.readSyncSnapshot(source)),
      getRollout: (source: string): Promise<RolloutRecord | undefined> => this.guard(() => store.getRollout(source)),
      applySync: (plans: readonly TxnPlan[]): Promise<number> => this.guard(() => store.applySync(plans)),
      listSources: (): Promise<SourceListing> => this.guard(() => store.listSources()),
      getSource: (name: string): Promise<Revisioned<SourceRecord> | undefined> => this.guard(() => store.getSource(name)),
      putSource: (record: SourceRecord, revision: number): Promise<boolean> => this.guard(() => store.putSource(record, revision)),
      removeSource: (name: string): Promise<boolean> => this.guard(() => store.removeSource(name)),
      listInventory: (): Promise<InventoryRecord[]> => this.guard(() => store.listInventory()),
    };
  }

  close(): void {
    this.registry.close();
  }
}

// --- etcd's errors, as the typed ones callers see ----------------------------------

function noAnswer(requestTimeoutMs: number): string {
  return `no answer within ${requestTimeoutMs / 1000} s (see --request-timeout)`;
}

/** Is this a failure to talk to etcd at all (as opposed to a rejected request)? */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isBrokenCircuitError(err)) return true;
  return (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof GRPCNotImplementedError ||
    err instanceof GRPCCancelledError ||
    isRecoverableError(err)
  );
}

/** gRPC messages look like "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED ...". */
export function connectionReason(err: Error, requestTimeoutMs: number): string {
  if (isBrokenCircuitError(err)) return 'every endpoint failed repeatedly';
  if (err instanceof GRPCDeadlineExceededError) {
    return noAnswer(requestTimeoutMs);
  }
  if (err instanceof GRPCNotImplementedError) {
    const status = /HTTP status code (\d+)/.exec(err.message);
    return `not an etcd v3 endpoint${status ? ` (HTTP ${status[1]})` : ''}`;
  }
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note.*)?$/s.exec(err.message);
  if (last?.[1]) return last[1].trim();
  return err.message.replace(/^\d+ [A-Z_]+: /, '').split('\n')[0] ?? err.message;
}

/** Rethrows connection failures as StoreUnreachableError; other errors pass through unchanged. */
export function mapStoreError(err: unknown, endpoints: readonly string[], requestTimeoutMs: number): unknown {
  if (err instanceof FlotillaError) return err;
  if (isConnectionError(err)) return new StoreUnreachableError(endpoints, connectionReason(err as Error, requestTimeoutMs));
  return err;
}

export interface StoreContext {
  endpoints: readonly string[];
  requestTimeoutMs: number;
  security?: StoreSecurity;
  /** The cluster's key prefix, named when etcd denies access to it. */
  prefix?: string;
}

/**
 * mapStoreError, plus the reasons only a look at the connection can give:
 * refusals become StoreRefusedError; a connection failure is probed for a
 * TLS cause (a wrong CA, a missing client certificate, the wrong scheme).
 */
export async function explainStoreError(err: unknown, ctx: StoreContext): Promise<unknown> {
  if (err instanceof StoreRefusedError) return err;
  const names = ctx.security?.names ?? DAEMON_CREDENTIAL_NAMES;
  const refusal = explainRefusal(err, ctx.security, names, ctx.prefix);
  if (refusal) return new StoreRefusedError(refusal);
  const mapped = mapStoreError(err, ctx.endpoints, ctx.requestTimeoutMs);
  if (!(mapped instanceof StoreUnreachableError)) return mapped;
  const tls = await diagnoseEndpoints(ctx.endpoints, ctx.security, names);
  if (tls) return new StoreRefusedError(tls);
  // gRPC's "Last error: null" (a TLS failure it did not describe) helps nobody.
  if (mapped.reason === 'null') return new StoreUnreachableError(ctx.endpoints, 'the TLS connection failed');
  return mapped;
}
