/**
 * One placement pass (a bid round's resolution, or a step's direct placement). Requests are taken peers first, then by name (see
 * order.ts). For each, keep the candidates every filter allows, then take
 * the least loaded, ties broken by machine id; a global unit goes to every
 * allowed candidate. Each placement updates the round state, so later units
 * see the load and neighbours earlier ones created.
 *
 * Replaces: when a unit J lands on a machine hosting units it replaces,
 * those units are moved: taken off the machine (their MachineOf followers
 * with them) and queued again, to be placed by the same filters, which keep
 * them off J's machine. A unit is displaced at most once per pass; a
 * second displacement leaves it unplaced until the next pass, so a pass
 * always terminates.
 */
import { noRequirements } from './no-requirements.js';
import { defaultFilters } from './filters/index.js';
import { orderByPeers } from './order.js';
import { reasons as why } from './reasons.js';
import { ReplaceGraph } from './replace-graph.js';
import { MutablePlacementState } from './placement-state.js';
import { LoadQueue } from './load-queue.js';
import type { Candidate, ClusterView, Decision, Filter, Move, Placement, PlacementRequest } from './types.js';
import type { UnitRequirements } from '../unit/requirements.js';

export function placeUnits(
  requests: readonly PlacementRequest[],
  candidates: readonly Candidate[],
  view: ClusterView,
  filters: readonly Filter[] = defaultFilters,
): Decision {
  const requested = new Map(requests.map((r) => [r.unit, r.requirements] as const));
  const graph = view.replaces ?? ReplaceGraph.build(knownRequirements(view, requested));
  const state = new MutablePlacementState(view, candidates, requested, graph);
  const sorted = [...candidates].sort((a, b) => (a.machineId < b.machineId ? -1 : a.machineId > b.machineId ? 1 : 0));
  const byId = new Map(candidates.map((c) => [c.machineId, c] as const));
  const loads = new LoadQueue(sorted, (m) => state.loadOf(m));
  const loadChanged = (machineId: string): void => {
    const c = byId.get(machineId);
    if (c) loads.push(c);
  };
  const { ordered, cyclic } = orderByPeers(requests);

  const queue: PlacementRequest[] = [...ordered];
  const placements: Placement[] = [];
  const moves = new Map<string, Move>(); // keyed by unit and source machine
  const unplaced = new Map<string, Record<string, string>>();
  const displaced = new Set<string>();

  const retract = (unit: string, machineId: string): boolean => {
    const i = placements.findIndex((p) => p.unit === unit && p.machineId === machineId);
    if (i >= 0) placements.splice(i, 1);
    return i >= 0;
  };

  const displace = (unit: string, machineId: string, reason: string): void => {
    if (!state.unitsOn(machineId).has(unit)) return;
    state.remove(unit, machineId);
    loadChanged(machineId);
    const reqs = state.requirementsOf(unit) ?? noRequirements;
    const fresh = retract(unit, machineId);
    if (reqs.global) {
      // A global unit is not moved anywhere: it simply no longer runs here.
      if (!fresh) moves.set(`${unit}\0${machineId}`, { unit, from: machineId, reason });
    } else if (displaced.has(unit)) {
      for (const m of moves.values()) if (m.unit === unit) delete m.to;
      unplaced.set(unit, { [machineId]: why.displacedTwice(reason) });
    } else {
      displaced.add(unit);
      if (!fresh) moves.set(`${unit}\0${machineId}`, { unit, from: machineId, reason });
      queue.push({ unit, requirements: reqs });
    }
    // Followers go with their peer; they are queued after it, so they can find it again.
    const followers = [...state.unitsOn(machineId)].filter((f) => state.requirementsOf(f)?.machineOf.includes(unit)).sort();
    for (const f of followers) displace(f, machineId, why.peerLeaving(unit));
  };

  const put = (unit: string, machineId: string): void => {
    state.place(unit, machineId);
    loadChanged(machineId);
    const global = state.requirementsOf(unit)?.global === true;
    const move = [...moves.values()].find((m) => m.unit === unit && m.to === undefined && !global);
    const backHome = `${unit}\0${machineId}`;
    // A global unit taken off this machine earlier in the pass (its replacer
    // has since been taken off again) never left: no move, no new placement.
    if (global && moves.has(backHome)) moves.delete(backHome);
    else if (move && displaced.has(unit)) move.to = machineId;
    else placements.push({ unit, machineId });
    const victims = [...graph.replacedBy(unit)].filter((r) => state.unitsOn(machineId).has(r)).sort();
    for (const r of victims) displace(r, machineId, why.replacedBy(unit));
  };

  for (let i = 0; i < queue.length; i++) {
    const req = queue[i]!;
    const reasons: Record<string, string> = {};
    const cycle = cyclic.get(req.unit);
    if (cycle !== undefined) {
      for (const c of sorted) reasons[c.machineId] = cycle;
      unplaced.set(req.unit, reasons);
      continue;
    }
    if (req.requirements.global) {
      const feasible: Candidate[] = [];
      for (const c of sorted) {
        const no = firstRefusal(filters, req, c, state);
        if (no === undefined) feasible.push(c);
        else reasons[c.machineId] = no;
      }
      for (const c of feasible) put(req.unit, c.machineId);
      if (feasible.length === 0) unplaced.set(req.unit, reasons);
      continue;
    }
    // Least loaded first: the first candidate every filter allows is the answer.
    const tried: Candidate[] = [];
    const seen = new Set<string>();
    let best: Candidate | undefined;
    for (let c = loads.pop(); c; c = loads.pop()) {
      if (seen.has(c.machineId)) continue;
      seen.add(c.machineId);
      tried.push(c);
      const no = firstRefusal(filters, req, c, state);
      if (no === undefined) {
        best = c;
        break;
      }
      reasons[c.machineId] = no;
    }
    for (const c of tried) loads.push(c);
    if (best) put(req.unit, best.machineId);
    else unplaced.set(req.unit, reasons);
  }

  return {
    placements,
    moves: [...moves.values()],
    unplaced: [...unplaced].map(([unit, reasons]) => ({ unit, reasons })),
  };
}

function knownRequirements(view: ClusterView, requested: ReadonlyMap<string, UnitRequirements>): Map<string, UnitRequirements> {
  const all = new Map(view.requirements ?? []);
  for (const units of view.unitsByMachine.values()) for (const u of units) if (!all.has(u)) all.set(u, noRequirements);
  for (const [u, r] of requested) all.set(u, r);
  return all;
}

function firstRefusal(filters: readonly Filter[], req: PlacementRequest, c: Candidate, state: MutablePlacementState): string | undefined {
  for (const f of filters) {
    const no = f(req, c, state);
    if (no !== undefined) return no;
  }
  return undefined;
}
