/**
 * One consistent picture for one engine step, derived from the watch-fed
 * caches: live machines with their effective metadata, every unit's parsed
 * requirements, and the Replaces relation over them. Built once per step so
 * the assignment checks, the offer and the round all judge the same state.
 */
import type { UnitRecord } from '../registry/records.js';
import type { ClusterView, ReplaceGraph } from '../scheduler/index.js';
import type { UnitRequirements } from '../unit/requirements.js';
import type { PlacedEntry, SnapshotSource } from './engine-view.js';

export interface Snapshot {
  live: string[];
  liveSet: ReadonlySet<string>;
  metadata: Map<string, Record<string, string>>;
  /** Units whose requirements parsed (every desired state: inactive units are not placed, but names matter). */
  requirements: Map<string, UnitRequirements>;
  /** Units that can never be placed as stored, with the reason. */
  broken: Map<string, string>;
  replaces: ReplaceGraph;
}

export const CONTENT_MISSING = 'unit content not found in the store';

export function takeSnapshot(state: SnapshotSource): Snapshot {
  const live = state.liveMachineIds();
  const requirements = new Map<string, UnitRequirements>();
  const broken = new Map<string, string>();
  const active: Array<[string, UnitRequirements]> = [];
  for (const unit of state.unitRecords()) {
    const r = state.requirementsOf(unit);
    // Not loaded yet (it arrived during this step): the next reconcile, already kicked, will know it.
    if (!r) {
      if (state.contentMissing(unit)) broken.set(unit.name, CONTENT_MISSING);
    } else if (!r.ok) broken.set(unit.name, r.reason);
    else {
      requirements.set(unit.name, r.requirements);
      if (unit.desired !== 'inactive') active.push([unit.name, r.requirements]);
    }
  }
  return {
    live,
    liveSet: new Set(live),
    metadata: state.effectiveMetadata(),
    requirements,
    broken,
    replaces: state.replaceGraph(active),
  };
}

/** What the scheduler sees as already placed, and each machine's load (global units count). */
export function viewOf(kept: Iterable<PlacedEntry>, snap: Snapshot): { view: ClusterView; load: Map<string, number> } {
  const unitsByMachine = new Map<string, Set<string>>();
  for (const a of kept) {
    let s = unitsByMachine.get(a.machineId);
    if (!s) unitsByMachine.set(a.machineId, (s = new Set()));
    s.add(a.record.unit);
  }
  const load = new Map([...unitsByMachine].map(([m, s]) => [m, s.size] as const));
  return { view: { unitsByMachine, requirements: snap.requirements, replaces: snap.replaces }, load };
}

/** Units with at least one assignment. */
export function placedUnits(kept: Iterable<PlacedEntry>): Set<string> {
  const out = new Set<string>();
  for (const a of kept) out.add(a.record.unit);
  return out;
}

export function needsPlacement(unit: UnitRecord, snap: Snapshot, machinesOf: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  if (unit.desired === 'inactive') return false;
  const reqs = snap.requirements.get(unit.name);
  if (!reqs) return false;
  const here = machinesOf.get(unit.name);
  if (!reqs.global) return here === undefined || here.size === 0;
  return snap.live.some((m) => !here?.has(m));
}
