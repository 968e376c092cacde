/**
 * The cluster as one placement pass changes it: the view's assignments plus what this
 * pass placed, minus what it moved away. Sets are copied on first write
 * only, so a pass over a large cluster costs what it changes.
 */
import type { UnitRequirements } from '../unit/requirements.js';
import { ConflictObjectors } from './filters/conflicts.js';
import type { ReplaceGraph } from './replace-graph.js';
import type { Candidate, ClusterView, PlacementState } from './types.js';

const NONE: ReadonlySet<string> = new Set();

export class MutablePlacementState implements PlacementState {
  private readonly units = new Map<string, Set<string>>();
  private readonly objectors = new Map<string, ConflictObjectors>();
  private readonly load = new Map<string, number>();

  constructor(
    private readonly view: ClusterView,
    candidates: readonly Candidate[],
    private readonly requested: ReadonlyMap<string, UnitRequirements>,
    readonly replaces: ReplaceGraph,
  ) {
    for (const c of candidates) this.load.set(c.machineId, c.load);
  }

  loadOf(machineId: string): number {
    return this.load.get(machineId) ?? 0;
  }

  unitsOn(machineId: string): ReadonlySet<string> {
    return this.units.get(machineId) ?? this.view.unitsByMachine.get(machineId) ?? NONE;
  }

  conflictObjectorsOn(machineId: string): ConflictObjectors {
    let o = this.objectors.get(machineId);
    if (!o) {
      o = new ConflictObjectors();
      for (const u of this.unitsOn(machineId)) o.add(u, this.requirementsOf(u)?.conflicts ?? []);
      this.objectors.set(machineId, o);
    }
    return o;
  }

  /** The round's own requirements win: they are the content being placed now. */
  requirementsOf(unit: string): UnitRequirements | undefined {
    return this.requested.get(unit) ?? this.view.requirements?.get(unit);
  }

  place(unit: string, machineId: string): void {
    this.writable(machineId).add(unit);
    this.objectors.get(machineId)?.add(unit, this.requirementsOf(unit)?.conflicts ?? []);
    this.load.set(machineId, this.loadOf(machineId) + 1);
  }

  remove(unit: string, machineId: string): void {
    if (!this.unitsOn(machineId).has(unit)) return;
    this.writable(machineId).delete(unit);
    this.objectors.get(machineId)?.remove(unit, this.requirementsOf(unit)?.conflicts ?? []);
    this.load.set(machineId, this.loadOf(machineId) - 1);
  }

  private writable(machineId: string): Set<string> {
    let s = this.units.get(machineId);
    if (!s) {
      s = new Set(this.view.unitsByMachine.get(machineId) ?? NONE);
      this.units.set(machineId, s);
    }
    return s;
  }
}
