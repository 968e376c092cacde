/**
 * ClusterClient on the etcd registry, reached through the ClientStore (which
 * turns etcd's errors into typed ones: a store that cannot be reached
 * surfaces as one StoreUnreachableError).
 *
 * Reads are shaped for large clusters: list calls are a fixed number of
 * range reads whatever the unit count (no per-unit reads), and unit contents,
 * immutable per hash, are parsed once per process.
 */
import { type ClientStore, connectClientStore } from '../registry/client-store.js';
import type { Keys } from '../registry/keys.js';
import { UnitFile, parseUnitName } from '../unit/index.js';
import { InvalidInputError } from '../util/errors.js';
import { assignmentsByUnit, contentInfo, deriveSummary, statesByUnit, toStateView, type ContentInfo } from './derive.js';
import { resolveMachine, validateMetadataChange } from './metadata.js';
import type { StoreSecurity } from '../registry/store-security.js';
import type { SourceStoreAccess } from './sources/store-sources.js';
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

  /** `registry`: the store as the client may use it (tests pass a wrapped one). */
  constructor(private readonly registry: ClientStore) {}

  static connect(opts: EtcdClientOptions): EtcdClusterClient {
    const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const store = connectClientStore({
      endpoints: opts.endpoints,
      requestTimeoutMs: timeout,
      dialTimeoutMs: timeout,
      ...(opts.security ? { security: opts.security } : {}),
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
    });
    return new EtcdClusterClient(store);
  }

  get keys(): Keys {
    return this.registry.keys;
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

  async listUnits(): Promise<UnitSummary[]> {
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
  }

  async getUnit(name: string): Promise<UnitSummary | undefined> {
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
  }

  async listUnitFiles(): Promise<Array<{ name: string; file: UnitFile }>> {
    const units = await this.registry.listUnits();
    await this.loadContentsOf(units);
    const out: Array<{ name: string; file: UnitFile }> = [];
    for (const u of units) {
      const file = this.contents.get(u.hash)?.file;
      if (file) out.push({ name: u.name, file });
    }
    return out.sort((a, b) => compare(a.name, b.name));
  }

  async getUnitFile(name: string): Promise<UnitFile | undefined> {
    const record = await this.registry.getUnit(name);
    if (!record) return undefined;
    return (await this.infoFor(record.hash, name)).file;
  }

  async getUnitRecord(name: string): Promise<UnitRecordView | undefined> {
    const record = await this.registry.getUnit(name);
    return record && { name: record.name, hash: record.hash, desiredState: record.desired };
  }

  async createUnit(name: string, file: UnitFile, desired: DesiredState = 'inactive'): Promise<WriteMark> {
    refuseActiveTemplate(name, desired);
    const content = file.serialize();
    const hash = file.hash();
    const revision = await this.registry.putUnit({ name, hash, desired }, content);
    this.contents.set(hash, contentInfo(content, name));
    return { revision };
  }

  async setDesiredState(name: string, state: DesiredState): Promise<boolean> {
    refuseActiveTemplate(name, state);
    return this.registry.setDesiredState(name, state);
  }

  destroyUnit(name: string): Promise<boolean> {
    return this.registry.destroyUnit(name);
  }

  async listUnitStates(unit?: string): Promise<UnitStateView[]> {
    return (await this.registry.listStates(unit)).map(toStateView).sort((a, b) => compare(a.name, b.name) || compare(a.machineId, b.machineId));
  }

  async listMachines(): Promise<MachineSummary[]> {
    return (await this.registry.listMachines()).map((m) => ({
      id: m.id,
      publicIP: m.publicIP,
      metadata: m.effectiveMetadata,
      sshPort: m.sshPort ?? 22,
      systemdScope: m.systemdScope ?? 'system',
      ...(m.version ? { version: m.version } : {}),
    }));
  }

  async updateMachineMetadata(machine: string, change: MetadataChange): Promise<MetadataResult> {
    // Checked before the store is asked anything, so bad input fails the same with etcd down.
    const valid = validateMetadataChange(change);
    const resolved = resolveMachine(machine, await this.registry.listMachineIds());
    await this.registry.updateMachineMetadata(resolved.machineId, valid.set, valid.remove);
    return resolved;
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
    return this.registry.watchPrefix(
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
    );
  }

  /**
   * The same store and connection for the source commands' StoreSourceClient
   * (built by the caller: the sources and git code load only when needed).
   */
  sourceAccess(): { store: SourceStoreAccess; contents: (hashes: Iterable<string>) => Promise<Map<string, string>> } {
    return { store: this.registry.sourceStore(), contents: (hashes) => this.registry.getContents(hashes) };
  }

  async close(): Promise<void> {
    this.registry.close();
  }
}

/** fleet's API refuses this on update only; a template never runs anywhere, so it is refused always. */
function refuseActiveTemplate(name: string, state: DesiredState): void {
  if (state !== 'inactive' && name.includes('@') && parseUnitName(name).isTemplate) {
    throw new InvalidInputError(`cannot activate template ${JSON.stringify(name)}`);
  }
}

/** Byte order, like etcd's key order, so output is stable across locales. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
