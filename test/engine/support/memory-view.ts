/**
 * An in-memory cluster for tests of the engine's pure decisions (decide.ts):
 * units by text, live machines with metadata, assignments with ages, and
 * departures on record. No etcd: it implements the view the decisions read.
 */
import type { EngineMemory, EngineSnapshot } from '../../../src/engine/decide.js';
import type { EngineView, HostJudgement, MalformedAssignment, PlacedEntry, RequirementsResult, SnapshotSource } from '../../../src/engine/engine-view.js';
import { GRACE_FRACTION } from '../../../src/engine/cluster-state.js';
import { Refusals } from '../../../src/engine/refusals.js';
import { takeSnapshot } from '../../../src/engine/snapshot.js';
import type { BookView } from '../../../src/engine/unplaced-book.js';
import { Keys } from '../../../src/registry/keys.js';
import type { DesiredState, UnitRecord } from '../../../src/registry/records.js';
import { ReplaceGraph } from '../../../src/scheduler/index.js';
import { needsHostJudgement, parseRequirements, UnitFile, verdictDependsOnName, type UnitRequirements } from '../../../src/unit/index.js';

export const keys = new Keys('/t/');
export const machine = (c: string): string => c.repeat(32).slice(0, 32);
export const service = (desc: string, extra = ''): string => `[Unit]\nDescription=${desc}\n[Service]\nExecStart=/bin/sleep infinity\n${extra}`;

export class MemoryCluster implements EngineView, SnapshotSource {
  assignmentsRevision = 10;
  private readonly units = new Map<string, UnitRecord>();
  private readonly files = new Map<string, UnitFile>();
  private readonly assigned: PlacedEntry[] = [];
  private readonly machines = new Map<string, Record<string, string>>();
  private readonly departures = new Map<string, number>();
  private rev = 1;
  ttlMs = 10_000;

  unitFrom(name: string, text: string, desired: DesiredState = 'launched'): this {
    const file = UnitFile.parse(text);
    this.files.set(file.hash(), file);
    this.units.set(name, { name, hash: file.hash(), desired });
    return this;
  }

  destroy(name: string): this {
    this.units.delete(name);
    return this;
  }

  live(id: string, metadata: Record<string, string> = {}): this {
    this.machines.set(id, metadata);
    return this;
  }

  gone(id: string, at: number): this {
    this.machines.delete(id);
    this.departures.set(id, at);
    return this;
  }

  assign(unit: string, machineId: string): this {
    const record = this.units.get(unit);
    this.assigned.push({ key: keys.assignment(machineId, unit), machineId, record: { unit, hash: record?.hash ?? 'f'.repeat(40), desired: 'launched' }, since: this.rev++ });
    return this;
  }

  unitRecords(): Iterable<UnitRecord> {
    return this.units.values();
  }
  unit(name: string): UnitRecord | undefined {
    return this.units.get(name);
  }
  placedAssignments(): Iterable<PlacedEntry> {
    return this.assigned;
  }
  malformedAssignments(): Iterable<MalformedAssignment> {
    return [];
  }
  unitUnreadable(): boolean {
    return false;
  }
  hostJudgement(hash: string): HostJudgement {
    const file = this.files.get(hash);
    if (!file) return { needed: true, byName: true };
    const needed = needsHostJudgement(file);
    return { needed, byName: needed && verdictDependsOnName(file) };
  }
  stopDeadline(machineId: string): number | undefined {
    const at = this.departures.get(machineId);
    return at === undefined ? undefined : at + this.ttlMs * GRACE_FRACTION;
  }
  /** unit -> machine -> pinned hash (a rollout keeping a host on the previous content). */
  readonly pins = new Map<string, Map<string, string>>();

  /** Pins as set by the test: unitHash plays no part (pinnedHash's own test covers it). */
  rolloutPin(unit: string, _unitHash: string, machineId: string): string | undefined {
    return this.pins.get(unit)?.get(machineId);
  }

  assumedStopDeadline(at: number): number {
    return at + this.ttlMs * GRACE_FRACTION;
  }
  requirementsOf(unit: UnitRecord): RequirementsResult | undefined {
    const file = this.files.get(unit.hash);
    return file && { ok: true, requirements: parseRequirements(file, unit.name).requirements };
  }
  contentMissing(unit: UnitRecord): boolean {
    return !this.files.has(unit.hash);
  }
  liveMachineIds(): string[] {
    return [...this.machines.keys()].sort();
  }
  effectiveMetadata(): Map<string, Record<string, string>> {
    return new Map(this.machines);
  }
  replaceGraph(active: ReadonlyArray<readonly [string, UnitRequirements]>): ReplaceGraph {
    return ReplaceGraph.build(active);
  }

  snapshot(now = new Date(1_000_000)): EngineSnapshot {
    return { view: this, snap: takeSnapshot(this), now };
  }
}

const noBook: BookView = { units: () => [], signatureOf: () => undefined };

export function memory(over: Partial<EngineMemory> = {}): EngineMemory {
  return {
    keys,
    limits: { units: 10_000, entries: 2000 },
    refusals: new Refusals(),
    book: noBook,
    roundOpen: false,
    resolving: false,
    assignmentsWrittenAt: 0,
    reportedCycles: '',
    ...over,
  };
}
