/**
 * Placement of one round: for each unit (in name order, so results are
 * deterministic), keep the candidates every filter allows, then take the least
 * loaded, ties broken by machine id. Global units go to every allowed
 * candidate. Each placement updates the round state, so later units see the
 * load and neighbours that earlier ones created.
 */
import { defaultFilters } from './filters.js';
import type { Candidate, ClusterView, Decision, Filter, PlacementRequest, RoundState } from './types.js';

class MutableRoundState implements RoundState {
  private readonly added = new Map<string, Set<string>>();
  private readonly load = new Map<string, number>();

  constructor(
    readonly view: ClusterView,
    candidates: readonly Candidate[],
  ) {
    for (const c of candidates) this.load.set(c.machineId, c.load);
  }

  loadOf(machineId: string): number {
    return this.load.get(machineId) ?? 0;
  }

  unitsOn(machineId: string): ReadonlySet<string> {
    const base = this.view.unitsByMachine.get(machineId);
    const extra = this.added.get(machineId);
    if (!extra) return base ?? new Set();
    return new Set([...(base ?? []), ...extra]);
  }

  place(unit: string, machineId: string): void {
    let s = this.added.get(machineId);
    if (!s) this.added.set(machineId, (s = new Set()));
    s.add(unit);
    this.load.set(machineId, this.loadOf(machineId) + 1);
  }
}

export function placeUnits(
  requests: readonly PlacementRequest[],
  candidates: readonly Candidate[],
  view: ClusterView,
  filters: readonly Filter[] = defaultFilters,
): Decision {
  const state = new MutableRoundState(view, candidates);
  const decision: Decision = { placements: [], unplaced: [] };
  const ordered = [...requests].sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0));

  for (const req of ordered) {
    const reasons: Record<string, string> = {};
    const feasible: Candidate[] = [];
    for (const c of candidates) {
      const why = firstRefusal(filters, req, c, state);
      if (why === undefined) feasible.push(c);
      else reasons[c.machineId] = why;
    }
    if (req.requirements.global) {
      for (const c of feasible) {
        state.place(req.unit, c.machineId);
        decision.placements.push({ unit: req.unit, machineId: c.machineId });
      }
      if (feasible.length === 0) decision.unplaced.push({ unit: req.unit, reasons });
      continue;
    }
    const best = leastLoaded(feasible, state);
    if (!best) {
      decision.unplaced.push({ unit: req.unit, reasons });
      continue;
    }
    state.place(req.unit, best.machineId);
    decision.placements.push({ unit: req.unit, machineId: best.machineId });
  }
  return decision;
}

function firstRefusal(filters: readonly Filter[], req: PlacementRequest, c: Candidate, state: RoundState): string | undefined {
  for (const f of filters) {
    const why = f(req, c, state);
    if (why !== undefined) return why;
  }
  return undefined;
}

function leastLoaded(feasible: readonly Candidate[], state: RoundState): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of feasible) {
    if (!best) {
      best = c;
      continue;
    }
    const d = state.loadOf(c.machineId) - state.loadOf(best.machineId);
    if (d < 0 || (d === 0 && c.machineId < best.machineId)) best = c;
  }
  return best;
}
