/**
 * What to offer next. A dry run of the scheduler over every live machine,
 * trusting each host to accept what it has not refused before, tells which
 * units some machine could take now: those are offered (with any placed unit
 * a newcomer would displace, so its new host can bid on it too). Units the
 * dry run cannot place are not offered at all; their reasons are what users
 * see until something changes. Because cluster rules are evaluated afresh
 * each time, a conflicting unit going away or a peer arriving is noticed on
 * the next reconcile, without bookkeeping.
 */
import { NO_LIVE_MACHINE, type OfferedContent, type UnitRecord } from '../registry/records.js';
import { placeUnits, type Candidate, type ClusterView, type Decision, type PlacementRequest } from '../scheduler/index.js';
import type { EngineView, HostJudgement, PlacedEntry } from './engine-view.js';
import type { RefusalsView } from './refusals.js';
import type { RoundUnit } from './round.js';
import { needsPlacement, viewOf, type Snapshot } from './snapshot.js';

export const NO_MACHINE = 'no machine is live';

/** How much one round may carry. */
export interface RoundLimits {
  /** Units placed by one round (bounds the engine's work per resolution). */
  units: number;
  /**
   * Entries of the offer: each distinct content, and each unit name listed
   * for name-dependent content. Bounds what every agent decodes and judges.
   */
  entries: number;
}

export interface OfferPlan {
  /** The units of the round. */
  units: RoundUnit[];
  /** What the offer record says: the units grouped by content. */
  contents: OfferedContent[];
  /** Units that need a machine and that none can take now: reasons per machine, NO_LIVE_MACHINE when it is not about machines. */
  unplaced: Map<string, { hash: string; reasons: Record<string, string> }>;
}

export function machinesOfUnits(kept: Iterable<PlacedEntry>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const a of kept) {
    let s = out.get(a.record.unit);
    if (!s) out.set(a.record.unit, (s = new Set()));
    s.add(a.machineId);
  }
  return out;
}

/**
 * Placed units that the chosen units replace, with their followers: the real
 * round may put a replacer on another machine than the dry run did, and the
 * unit it displaces there can move at once only if its new host has bid on it.
 */
function displaceable(chosen: readonly string[], snap: Snapshot, machinesOf: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out = new Set<string>();
  for (const j of chosen) for (const r of snap.replaces.replacedBy(j)) if (machinesOf.has(r)) out.add(r);
  if (out.size === 0) return [];
  const followers = new Map<string, string[]>();
  for (const [u, reqs] of snap.requirements) {
    for (const p of reqs.machineOf) {
      const list = followers.get(p);
      if (list) list.push(u);
      else followers.set(p, [u]);
    }
  }
  // A Set iterates what is added while iterating: followers of followers too.
  for (const unit of out) for (const f of followers.get(unit) ?? []) if (machinesOf.has(f)) out.add(f);
  return [...out];
}

/** `placedDirectly`: units the step decided for without a round (direct-plan.ts); neither offered nor reported here. */
export function planOffer(
  state: EngineView,
  snap: Snapshot,
  kept: readonly PlacedEntry[],
  refusals: RefusalsView,
  limits: RoundLimits,
  placedDirectly: ReadonlySet<string> = new Set(),
): OfferPlan {
  const machinesOf = machinesOfUnits(kept);
  const unplaced: OfferPlan['unplaced'] = new Map();
  const requests: PlacementRequest[] = [];
  const records = new Map<string, UnitRecord>();
  for (const unit of state.unitRecords()) {
    if (unit.desired === 'inactive') continue;
    records.set(unit.name, unit);
    if (placedDirectly.has(unit.name)) continue;
    const broken = snap.broken.get(unit.name);
    if (broken !== undefined) {
      if (!machinesOf.has(unit.name)) unplaced.set(unit.name, { hash: unit.hash, reasons: { [NO_LIVE_MACHINE]: broken } });
      continue;
    }
    if (needsPlacement(unit, snap, machinesOf)) requests.push({ unit: unit.name, requirements: snap.requirements.get(unit.name)! });
  }
  if (snap.live.length === 0) {
    for (const r of requests) if (!machinesOf.has(r.unit)) unplaced.set(r.unit, { hash: records.get(r.unit)!.hash, reasons: { [NO_LIVE_MACHINE]: NO_MACHINE } });
    return { units: [], contents: [], unplaced };
  }

  const { view, load } = viewOf(kept, snap);
  const candidates: Candidate[] = snap.live.map((m) => {
    const c: Candidate = { machineId: m, load: load.get(m) ?? 0, accepts: EVERYTHING, refuses: NOTHING };
    if (refusals.heardAnything(m)) {
      const said = (u: string): string | undefined => {
        const record = records.get(u) ?? state.unit(u);
        return record ? refusals.refused(record, m) : undefined;
      };
      c.accepts = { has: (u) => said(u) === undefined };
      c.refuses = { get: said };
    }
    const md = snap.metadata.get(m);
    if (md) c.metadata = md;
    return c;
  });
  const dry = dryRun(requests, candidates, view, (m) => !refusals.heardAnything(m));

  const offer = new OfferBuilder(limits, (hash) => state.hostJudgement(hash));
  const chosen = [...dry.placements.map((p) => p.unit), ...dry.moves.map((m) => m.unit)];
  for (const name of [...chosen, ...displaceable(chosen, snap, machinesOf)]) {
    const record = records.get(name);
    if (record && !offer.add(record)) break;
  }
  for (const u of dry.unplaced) {
    const record = records.get(u.unit);
    if (record && !machinesOf.has(u.unit)) unplaced.set(u.unit, { hash: record.hash, reasons: u.reasons });
  }
  return { units: offer.units, contents: offer.contents(), unplaced };
}

/**
 * The dry run tries machines with nothing refused on record first, then
 * every machine for what is left. Least-loaded order would otherwise try the
 * machines that refuse much (they stay empty, so they come first) for every
 * unit: a slow host silent for 5,000 units made each of them cost every
 * such machine. The exact machine does not matter here, only whether some
 * machine can take the unit, and why not if none can.
 */
function dryRun(requests: PlacementRequest[], candidates: Candidate[], view: ClusterView, clean: (machineId: string) => boolean): Decision {
  const first = candidates.filter((c) => clean(c.machineId));
  if (first.length === 0 || first.length === candidates.length) return placeUnits(requests, candidates, view);
  const one = placeUnits(requests, first, view);
  const left = new Set(one.unplaced.map((u) => u.unit));
  if (left.size === 0) return one;
  // The second pass sees the first one's placements, as the next units of one pass would.
  const placed = new Map<string, Set<string>>();
  const added = new Map<string, number>();
  for (const p of one.placements) {
    let s = placed.get(p.machineId);
    if (!s) placed.set(p.machineId, (s = new Set(view.unitsByMachine.get(p.machineId))));
    s.add(p.unit);
    added.set(p.machineId, (added.get(p.machineId) ?? 0) + 1);
  }
  const unitsByMachine = new Map([...view.unitsByMachine, ...placed]);
  const all = candidates.map((c) => ({ ...c, load: c.load + (added.get(c.machineId) ?? 0) }));
  const two = placeUnits(requests.filter((r) => left.has(r.unit)), all, { ...view, unitsByMachine });
  return { placements: [...one.placements, ...two.placements], moves: [...one.moves, ...two.moves], unplaced: two.unplaced };
}

/** What a machine never refused: the engine has no answer of it on record. */
const EVERYTHING = { has: (): boolean => true };
const NOTHING = { get: (): string | undefined => undefined };

/** The round's units, grouped by content as the offer states them, within the round's limits. */
class OfferBuilder {
  readonly units: RoundUnit[] = [];
  private readonly byHash = new Map<string, OfferedContent>();
  private readonly named = new Set<string>();
  private entries = 0;

  constructor(
    private readonly limits: RoundLimits,
    private readonly judgement: (hash: string) => HostJudgement,
  ) {}

  /** False once the round is full. */
  add(unit: UnitRecord): boolean {
    if (this.named.has(unit.name)) return true;
    if (this.units.length >= this.limits.units) return false;
    let content = this.byHash.get(unit.hash);
    const judgement = this.judgement(unit.hash);
    const cost = (content ? 0 : 1) + (judgement.byName ? 1 : 0);
    if (this.entries + cost > this.limits.entries) return this.entries < this.limits.entries;
    if (!content) {
      content = { hash: unit.hash, units: 0, hostChecks: judgement.needed };
      if (judgement.byName) content.names = [];
      this.byHash.set(unit.hash, content);
    }
    content.units++;
    content.names?.push(unit.name);
    this.entries += cost;
    this.named.add(unit.name);
    this.units.push({ name: unit.name, hash: unit.hash });
    return true;
  }

  contents(): OfferedContent[] {
    return [...this.byHash.values()];
  }
}
