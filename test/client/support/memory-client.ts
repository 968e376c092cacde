/**
 * An in-memory ClusterClient for testing operations without etcd. It derives
 * current state with the same pure functions as the etcd driver. Tests that
 * move units through states do so by calling `assign`/`publish`, standing in
 * for the engine and agents (only to exercise the wait logic).
 */
import { assignmentsByUnit, contentInfo, deriveSummary, toStateView } from '../../../src/client/derive.js';
import { resolveMachine, validateMetadataChange } from '../../../src/client/metadata.js';
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
} from '../../../src/client/types.js';
import type { PlacedAssignment } from '../../../src/registry/registry.js';
import type { AssignedState, UnitStateRecord, UnplacedRecord } from '../../../src/registry/records.js';
import { UnitFile } from '../../../src/unit/index.js';

interface StoredUnit {
  name: string;
  hash: string;
  desired: DesiredState;
  file: UnitFile;
}

export class MemoryClient implements ClusterClient {
  readonly units = new Map<string, StoredUnit>();
  readonly assignments = new Map<string, PlacedAssignment>();
  readonly states = new Map<string, UnitStateRecord>();
  /** What the engine would write under P/unplaced/. */
  readonly unplaced = new Map<string, UnplacedRecord>();
  /** Dynamic metadata writes, machine id -> key -> value ('' = tombstone). */
  readonly metadata = new Map<string, Map<string, string>>();
  machines: MachineSummary[] = [];
  /** Every mutation, for asserting what an operation wrote. */
  readonly writes: string[] = [];
  private readonly watchers = new Set<{ units: Set<string>; fn: (u: string) => void }>();
  /** Counts writes, standing in for the store's revision. */
  private revision = 0;
  /** Called after every setDesiredState, and after a create at a state other than inactive: lets a test act as the cluster reacting. */
  onDesired: ((name: string, state: DesiredState) => void) | undefined;

  private notify(unit: string): void {
    for (const w of this.watchers) if (w.units.has(unit)) queueMicrotask(() => w.fn(unit));
  }

  /** Test setup: a unit already in the cluster. */
  seed(name: string, text: string, desired: DesiredState = 'inactive'): UnitFile {
    const file = UnitFile.parse(text);
    this.units.set(name, { name, hash: file.hash(), desired, file });
    return file;
  }

  assign(unit: string, machineId: string, desired: AssignedState = 'launched'): void {
    const u = this.units.get(unit);
    for (const [k, a] of this.assignments) if (a.unit === unit) this.assignments.delete(k);
    this.assignments.set(`${machineId}/${unit}`, { unit, machineId, hash: u?.hash ?? '', desired });
    this.notify(unit);
  }

  unassign(unit: string): void {
    for (const [k, a] of this.assignments) if (a.unit === unit) this.assignments.delete(k);
    this.notify(unit);
  }

  publish(unit: string, machineId: string, s: Partial<Omit<UnitStateRecord, 'unit' | 'machineId'>>): void {
    const prev = this.states.get(`${unit}/${machineId}`);
    this.states.set(`${unit}/${machineId}`, {
      unit,
      machineId,
      hash: s.hash ?? prev?.hash ?? this.units.get(unit)?.hash ?? '',
      load: s.load ?? prev?.load ?? 'loaded',
      active: s.active ?? prev?.active ?? 'inactive',
      sub: s.sub ?? prev?.sub ?? 'dead',
      applied: s.applied ?? prev?.applied ?? 'loaded',
      ...('failure' in s ? (s.failure === undefined ? {} : { failure: s.failure }) : prev?.failure === undefined ? {} : { failure: prev.failure }),
    });
    this.notify(unit);
  }

  /** Stands in for the engine reporting that no machine takes `unit` (current content). */
  reportUnplaced(unit: string, reasons: Record<string, string>, at = '2024-01-01T00:00:00.000Z'): void {
    this.unplaced.set(unit, { unit, hash: this.units.get(unit)?.hash ?? '', reasons, at });
    this.notify(unit);
  }

  unpublish(unit: string): void {
    for (const k of [...this.states.keys()]) if (k.startsWith(`${unit}/`)) this.states.delete(k);
    this.notify(unit);
  }

  private summary(u: StoredUnit): UnitSummary {
    const info = contentInfo(u.file.serialize(), u.name);
    const placed = assignmentsByUnit([...this.assignments.values()]).get(u.name);
    const states = [...this.states.values()].filter((s) => s.unit === u.name);
    return deriveSummary({ name: u.name, hash: u.hash, desired: u.desired }, info, placed, states, this.unplaced.get(u.name));
  }

  async listUnits(): Promise<UnitSummary[]> {
    return [...this.units.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((u) => this.summary(u));
  }

  async getUnit(name: string): Promise<UnitSummary | undefined> {
    const u = this.units.get(name);
    return u ? this.summary(u) : undefined;
  }

  async getUnitFile(name: string): Promise<UnitFile | undefined> {
    return this.units.get(name)?.file;
  }

  async getUnitRecord(name: string): Promise<UnitRecordView | undefined> {
    const u = this.units.get(name);
    return u && { name: u.name, hash: u.hash, desiredState: u.desired };
  }

  async createUnit(name: string, file: UnitFile, desired: DesiredState = 'inactive'): Promise<WriteMark> {
    this.writes.push(desired === 'inactive' ? `create ${name}` : `create ${name} ${desired}`);
    this.units.set(name, { name, hash: file.hash(), desired, file });
    this.notify(name);
    if (desired !== 'inactive') this.onDesired?.(name, desired);
    return { revision: String(++this.revision) };
  }

  async setDesiredState(name: string, state: DesiredState): Promise<boolean> {
    const u = this.units.get(name);
    if (!u) return false;
    this.writes.push(`desire ${name} ${state}`);
    u.desired = state;
    this.notify(name);
    this.onDesired?.(name, state);
    return true;
  }

  async destroyUnit(name: string): Promise<boolean> {
    this.writes.push(`destroy ${name}`);
    const existed = this.units.delete(name);
    this.notify(name);
    return existed;
  }

  async listUnitStates(unit?: string): Promise<UnitStateView[]> {
    return [...this.states.values()]
      .filter((s) => unit === undefined || s.unit === unit)
      .sort((a, b) => (a.unit === b.unit ? (a.machineId < b.machineId ? -1 : 1) : a.unit < b.unit ? -1 : 1))
      .map(toStateView);
  }

  async listMachines(): Promise<MachineSummary[]> {
    return [...this.machines].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async listUnitFiles(): Promise<Array<{ name: string; file: UnitFile }>> {
    return [...this.units.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((u) => ({ name: u.name, file: u.file }));
  }

  async updateMachineMetadata(machine: string, change: MetadataChange): Promise<MetadataResult> {
    const valid = validateMetadataChange(change);
    const resolved = resolveMachine(machine, this.machines.map((m) => m.id));
    const m = this.metadata.get(resolved.machineId) ?? new Map<string, string>();
    for (const [k, v] of Object.entries(valid.set)) m.set(k, v);
    for (const k of valid.remove) m.set(k, '');
    this.metadata.set(resolved.machineId, m);
    this.writes.push(`metadata ${resolved.machineId}`);
    return resolved;
  }


  async watchUnits(units: readonly string[], onChange: (unit: string) => void): Promise<Unsubscribe> {
    const w = { units: new Set(units), fn: onChange };
    this.watchers.add(w);
    return async () => {
      this.watchers.delete(w);
    };
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  async close(): Promise<void> {}
}

/** Collects what an operation prints. */
export class MemorySink {
  readonly lines: string[] = [];
  readonly outLines: string[] = [];
  readonly errLines: string[] = [];
  out(line: string): void {
    this.lines.push(`out: ${line}`);
    this.outLines.push(line);
  }
  err(line: string): void {
    this.lines.push(`err: ${line}`);
    this.errLines.push(line);
  }
  debug(): void {}
}

/** Local unit files for lazyCreateUnits, keyed by path. */
export function memoryFiles(files: Record<string, string>): { read(path: string): Promise<string | undefined> } {
  return { read: async (path: string) => files[path] };
}
