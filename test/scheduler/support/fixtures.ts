/** Small builders shared by the scheduler tests. */
import type { Candidate, ClusterView, Decision, PlacementRequest } from '../../../src/scheduler/index.js';
import type { UnitRequirements } from '../../../src/unit/index.js';

export function reqs(over: Partial<UnitRequirements> = {}): UnitRequirements {
  return { machineOf: [], machineMetadata: {}, conflicts: [], replaces: [], global: false, onDisconnect: 'keep', ...over };
}

export function request(unit: string, over: Partial<UnitRequirements> = {}): PlacementRequest {
  return { unit, requirements: reqs(over) };
}

/** A host that accepts everything except `refuse` (unit -> reason). */
export function host(machineId: string, load = 0, refuse: Record<string, string> = {}, metadata?: Record<string, string>): Candidate {
  const refuses = new Map(Object.entries(refuse));
  const c: Candidate = { machineId, load, accepts: { has: (u) => !refuses.has(u) }, refuses };
  if (metadata) c.metadata = metadata;
  return c;
}

/** A view from `{machine: [units]}` and the requirements of placed units. */
export function view(placed: Record<string, string[]>, requirements: Record<string, UnitRequirements> = {}): ClusterView {
  return {
    unitsByMachine: new Map(Object.entries(placed).map(([m, us]) => [m, new Set(us)])),
    requirements: new Map(Object.entries(requirements)),
  };
}

/** machine -> sorted units after applying a decision to a view. */
export function apply(v: ClusterView, d: Decision): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const at = (m: string): Set<string> => {
    let s = out.get(m);
    if (!s) out.set(m, (s = new Set()));
    return s;
  };
  for (const [m, us] of v.unitsByMachine) for (const u of us) at(m).add(u);
  for (const mv of d.moves) {
    at(mv.from).delete(mv.unit);
    if (mv.to !== undefined) at(mv.to).add(mv.unit);
  }
  for (const p of d.placements) at(p.machineId).add(p.unit);
  return out;
}

export function whereIs(state: Map<string, Set<string>>, unit: string): string[] {
  return [...state].filter(([, us]) => us.has(unit)).map(([m]) => m).sort();
}
