/**
 * ClusterClient on the etcd registry. Every call goes through `guard`, so a
 * store that cannot be reached surfaces as one StoreUnreachableError.
 *
 * Reads are shaped for large clusters: list calls are a fixed number of
 * range reads whatever the unit count (no per-unit reads), and unit contents,
 * immutable per hash, are parsed once per process.
 */
import { type ClientStore, type StopWatch, connectClientStore } from '../registry/client-store.js';
import type { Keys } from '../registry/keys.js';
import { UnitFile, parseUnitName } from '../unit/index.js';
import { InvalidInputError } from '../util/errors.js';
import { assignmentsByUnit, contentInfo, deriveSummary, statesByUnit, toStateView, type ContentInfo } from './derive.js';
import { resolveMachine, validateMetadataChange } from './metadata.js';
import { StoreUnreachableError, explainStoreError } from './store-errors.js';
import type { StoreSecurity } from '../registry/store-security.js';
import type { SourceClient } from './sources/source-client.js';
import type {
  ClusterClient,
  DesiredState,
  MachineSummary,
  MetadataChange,
  MetadataResult,
  UnitRecordView,
  UnitStateView,
  UnitSummary,
  Unsubscribe,
  WriteMark,
} from './types.js';

export interface EtcdClientOptions {
  endpoints: string[];
  /** Key prefix; defaults to the registry's. */
  prefix?: string;
  /** Deadline of each request to etcd. */
  requestTimeoutMs?: number;
  /** TLS material and user; also names the settings in error messages. */
  security?: StoreSecurity;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 3000;

/** Beyond this many unknown contents one range read of all contents beats batched gets. */
const BULK_CONTENT_THRESHOLD = 200;

export class EtcdClusterClient implements ClusterClient {
  private readonly contents = new Map<string, ContentInfo>();
  private readonly endpoints: readonly string[];
  private readonly requestTimeoutMs: number;
  private readonly security: StoreSecurity | undefined;

  /** `registry`: the store as the client may use it (tests pass a wrapped one). */
  constructor(
    private readonly registry: ClientStore,
    opts: EtcdClientOptions,
  ) {
    this.endpoints = opts.endpoints;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.security = opts.security;
  }

  static connect(opts: EtcdClientOptions): EtcdClusterClient {
    const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const store = connectClientStore({
      endpoints: opts.endpoints,
      requestTimeoutMs: timeout,
      dialTimeoutMs: timeout,
      ...(opts.security ? { security: opts.security } : {}),
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
    });
    return new EtcdClusterClient(store, opts);
  }

  get keys(): Keys {
    return this.registry.keys;
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw await this.explain(err);
    }
  }

  private explain(err: unknown): Promise<unknown> {
    return explainStoreError(err, { endpoints: this.endpoints, requestTimeoutMs: this.requestTimeoutMs, prefix: this.registry.keys.prefix, ...(this.security ? { security: this.security } : {}) });
  }

  private async infoFor(hash: string, unitName: string): Promise<ContentInfo> {
    const cached = this.contents.get(hash);
    if (cached) return cached;
    const info = contentInfo(await this.registry.getContent(hash), unitName);
    this.contents.set(hash, info);
    return info;
  }

  private async loadContentsOf(units: ReadonlyArray<{ name: string; hash: string }>): Promise<void> {
    const hashes = new Map<string, string>();
    for (const u of units) if (!hashes.has(u.hash)) hashes.set(u.hash, u.name);
    await this.loadContents(hashes);
  }

  private async loadContents(wanted: Map<string, string>): Promise<void> {
    const missing = [...wanted.keys()].filter((h) => !this.contents.has(h));
    if (missing.length === 0) return;
    const texts = missing.length > BULK_CONTENT_THRESHOLD
      ? await this.registry.listContents()
      : await this.registry.getContents(missing);
    for (const hash of missing) this.contents.set(hash, contentInfo(texts.get(hash), wanted.get(hash) ?? ''));
  }

  listUnits(): Promise<UnitSummary[]> {
    return this.guard(async () => {
      // Unplaced records exist only for units no machine takes: a small range read.
      const [units, assignments, states, unplaced] = await Promise.all([
        this.registry.listUnits(),
        this.registry.listAssignments(),
        this.registry.listStates(),
        this.registry.listUnplaced(),
      ]);
      await this.loadContentsOf(units);
      const placed = assignmentsByUnit(assignments);
      const byUnit = statesByUnit(states);
      const problems = new Map(unplaced.map((r) => [r.unit, r]));
      return units
        .map((u) =>
          deriveSummary(u, this.contents.get(u.hash) ?? contentInfo(undefined, u.name), placed.get(u.name), byUnit.get(u.name) ?? [], problems.get(u.name)),
        )
        .sort((a, b) => compare(a.name, b.name));
    });
  }

  getUnit(name: string): Promise<UnitSummary | undefined> {
    return this.guard(async () => {
      const [record, states, machineIds, unplaced] = await Promise.all([
        this.registry.getUnit(name),
        this.registry.listStates(name),
        this.registry.listMachineIds(),
        this.registry.getUnplaced(name),
      ]);
      if (!record) return undefined;
      const info = await this.infoFor(record.hash, name);
      if (info.global) return deriveSummary(record, info, undefined, states, unplaced);
      // A machine that left may still hold the assignment while its states linger on its lease.
      const assignment = await this.registry.findAssignment(name, [...machineIds, ...states.map((s) => s.machineId)]);
      return deriveSummary(record, info, assignment, states, unplaced);
    });
  }

  listUnitFiles(): Promise<Array<{ name: string; file: UnitFile }>> {
    return this.guard(async () => {
      const units = await this.registry.listUnits();
      await this.loadContentsOf(units);
      const out: Array<{ name: string; file: UnitFile }> = [];
      for (const u of units) {
        const file = this.contents.get(u.hash)?.file;
        if (file) out.push({ name: u.name, file });
      }
      return out.sort((a, b) => compare(a.name, b.name));
    });
  }

  getUnitFile(name: string): Promise<UnitFile | undefined> {
    return this.guard(async () => {
      const record = await this.registry.getUnit(name);
      if (!record) return undefined;
      return (await this.infoFor(record.hash, name)).file;
    });
  }

  getUnitRecord(name: string): Promise<UnitRecordView | undefined> {
    return this.guard(async () => {
      const record = await this.registry.getUnit(name);
      return record && { name: record.name, hash: record.hash, desiredState: record.desired };
    });
  }

  createUnit(name: string, file: UnitFile, desired: DesiredState = 'inactive'): Promise<WriteMark> {
    if (desired !== 'inactive' && name.includes('@') && parseUnitName(name).isTemplate) {
      return Promise.reject(new InvalidInputError(`cannot activate template ${JSON.stringify(name)}`));
    }
    return this.guard(async () => {
      const content = file.serialize();
      const hash = file.hash();
      const revision = await this.registry.putUnit({ name, hash, desired }, content);
      this.contents.set(hash, contentInfo(content, name));
      return { revision };
    });
  }

  setDesiredState(name: string, state: DesiredState): Promise<boolean> {
    // fleet's API refuses this on update only; a template never runs anywhere, so refuse it always.
    if (state !== 'inactive' && name.includes('@') && parseUnitName(name).isTemplate) {
      return Promise.reject(new InvalidInputError(`cannot activate template ${JSON.stringify(name)}`));
    }
    return this.guard(() => this.registry.setDesiredState(name, state));
  }

  destroyUnit(name: string): Promise<boolean> {
    return this.guard(() => this.registry.destroyUnit(name));
  }

  listUnitStates(unit?: string): Promise<UnitStateView[]> {
    return this.guard(async () =>
      (await this.registry.listStates(unit)).map(toStateView).sort((a, b) => compare(a.name, b.name) || compare(a.machineId, b.machineId)),
    );
  }

  listMachines(): Promise<MachineSummary[]> {
    return this.guard(async () =>
      (await this.registry.listMachines()).map((m) => ({
        id: m.id,
        publicIP: m.publicIP,
        metadata: m.effectiveMetadata,
        sshPort: m.sshPort ?? 22,
        systemdScope: m.systemdScope ?? 'system',
      })),
    );
  }

  updateMachineMetadata(machine: string, change: MetadataChange): Promise<MetadataResult> {
    return this.guard(async () => {
      // Checked before the store is asked anything, so bad input fails the same with etcd down.
      const valid = validateMetadataChange(change);
      const resolved = resolveMachine(machine, await this.registry.listMachineIds());
      await this.registry.updateMachineMetadata(resolved.machineId, valid.set, valid.remove);
      return resolved;
    });
  }


  /**
   * One watch of the whole key prefix, filtered here: every per-unit kind
   * (records, assignments, states, unplaced reports) is under it, and no
   * narrower range covers them all. Constant cost however many units a
   * command waits on; keys of other kinds are dropped unparsed beyond their
   * prefix. With `after`, the watch starts just after that write, so what
   * happened between the write and the watch going live is reported too.
   */
  async watchUnits(units: readonly string[], onChange: (unit: string) => void, after?: WriteMark): Promise<Unsubscribe> {
    const wanted = new Set(units);
    const k = this.registry.keys;
    const from = after === undefined ? undefined : (BigInt(after.revision) + 1n).toString();
    let stop: StopWatch;
    try {
      stop = await this.withDeadline(
        this.registry.watchPrefix(
          k.prefix,
          {
            changed: (key) => {
              const unit = k.unitOfAnyKey(key);
              if (unit !== undefined && wanted.has(unit)) onChange(unit);
            },
            // Events may have been lost while the stream was down: make everyone re-read.
            gap: () => wanted.forEach(onChange),
          },
          from,
        ),
      );
    } catch (err) {
      throw await this.explain(err);
    }
    // A watch whose cancel fails is gone with its stream anyway; the caller only wants it stopped.
    return () => stop().catch(() => undefined);
  }

  /** The source commands' view of the same store and connection. */
  sources(): SourceClient {
    const store = this.registry.sourceStore();
    const g = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> => this.guard(() => fn(...args));
    return {
      keys: store.keys,
      readSyncSnapshot: g((source: string) => store.readSyncSnapshot(source)),
      applySync: g((plans) => store.applySync(plans)),
      contents: g((hashes: Iterable<string>) => this.registry.getContents(hashes)),
      listSources: g(() => store.listSources()),
      getSource: g((name: string) => store.getSource(name)),
      putSource: g((record, revision: number) => store.putSource(record, revision)),
      removeSource: g((name: string) => store.removeSource(name)),
      listInventory: g(() => store.listInventory()),
    };
  }

  /** Watch creation has no gRPC deadline (it is a stream), so bound it here. */
  private withDeadline<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnreachableError(this.endpoints, `no answer within ${this.requestTimeoutMs / 1000} s (see --request-timeout)`)),
        this.requestTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  async close(): Promise<void> {
    this.registry.close();
  }
}

/** Byte order, like etcd's key order, so output is stable across locales. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
