/**
 * Turning a round's bids into a decision: the bidders still alive are the
 * candidates (with the engine's own load count, newer than the bids', and the
 * machine metadata the engine knows), the offered units that still need a
 * machine are the requests. Units that arrived since the offer join them when
 * the bids already answer for them: their content has nothing for hosts to
 * check, or was offered and is judged by content, not by name. So a stream
 * of units is placed as it comes, without a round per burst. If live machines did not bid in time for the
 * first time, bidders take only an even share (fair-share filter) and the
 * rest is deferred to the next round, where the late machines can bid;
 * machines already late before are not waited for again.
 */
import { bidRefusal, type BidRecord, type UnitRecord } from '../registry/records.js';
import { defaultFilters, fairShareCap, fairShareFilter, placeUnits, reasons, type Candidate, type Decision, type Filter, type PlacementRequest } from '../scheduler/index.js';
import type { EngineView, PlacedEntry } from './engine-view.js';
import { machinesOfUnits } from './offer-plan.js';
import type { Round } from './round.js';
import { needsPlacement, viewOf, type Snapshot } from './snapshot.js';

export interface Resolution {
  decision: Decision;
  bids: BidRecord[];
  /** Live machines expected to bid that did not. */
  silent: string[];
  /** Units left for the next round: bidders had their even share (see fair-share filter). */
  deferred: string[];
  /** Units with at least one assignment before this decision. */
  placedBefore: ReadonlyMap<string, ReadonlySet<string>>;
}

/** `wasLate(m)`: the machine already missed an earlier round; it is not waited for again. */
export function resolveBids(
  round: Round,
  state: EngineView,
  snap: Snapshot,
  kept: readonly PlacedEntry[],
  wasLate: (machineId: string) => boolean,
  /** What a machine said about a unit in earlier rounds (see Refusals): heeded for units that join. */
  refusedBefore: (unit: UnitRecord, machineId: string) => string | undefined,
  maxUnits: number,
): Resolution {
  const bids = round.received().filter((b) => snap.liveSet.has(b.machineId));
  const { view, load } = viewOf(kept, snap);
  const placedBefore = machinesOfUnits(kept);
  /**
   * Every assignment still in etcd, the doomed ones included (gone machine,
   * broken rule): reconcile waits while a round is open, so a unit that still
   * has one must not get a second one here, or two hosts could run it at once.
   * The reconcile after the round deletes the old key; the next round places it.
   */
  const anywhere = machinesOfUnits(state.placedAssignments());
  const stillAssigned = (unit: UnitRecord): boolean => anywhere.has(unit.name) && snap.requirements.get(unit.name)?.global !== true;
  const requests: PlacementRequest[] = [];
  /**
   * Units the bids answer for, with the content they answer about: the
   * offered ones (placed ones too: a unit displaced by a replacer moves only
   * to a host that bid on it) and those that join below.
   */
  const judged = new Map(round.hashOf);
  for (const o of round.units) {
    const unit = state.unit(o.name);
    // Content replaced since the offer: the hosts judged other content; offer it again.
    if (!unit || unit.hash !== o.hash || !needsPlacement(unit, snap, placedBefore) || stillAssigned(unit)) continue;
    requests.push({ unit: unit.name, requirements: snap.requirements.get(unit.name)! });
  }
  const offeredContent = new Set(round.hashOf.values());
  const joined = new Map<string, UnitRecord>();
  for (const unit of state.unitRecords()) {
    if (requests.length >= maxUnits) break;
    if (round.hashOf.has(unit.name) || !needsPlacement(unit, snap, placedBefore) || stillAssigned(unit)) continue;
    // A replacer would displace a unit no bid answers for, leaving it nowhere to go: offer it instead.
    if ([...snap.replaces.replacedBy(unit.name)].some((r) => anywhere.has(r))) continue;
    const judgement = state.hostJudgement(unit.hash);
    if (judgement.needed && (judgement.byName || !offeredContent.has(unit.hash))) continue;
    requests.push({ unit: unit.name, requirements: snap.requirements.get(unit.name)! });
    judged.set(unit.name, unit.hash);
    joined.set(unit.name, unit);
  }

  const candidates: Candidate[] = bids.map((b) => {
    // Only what the bid answers for can be placed on its machine.
    const refusal = (u: string): string | undefined => {
      const hash = judged.get(u);
      if (hash === undefined) return undefined;
      const said = bidRefusal(b, u, hash);
      const unit = said === undefined ? joined.get(u) : undefined;
      return unit === undefined ? said : refusedBefore(unit, b.machineId);
    };
    const c: Candidate = {
      machineId: b.machineId,
      load: load.get(b.machineId) ?? 0,
      accepts: { has: (u) => judged.has(u) && refusal(u) === undefined },
      refuses: { get: refusal },
    };
    const md = snap.metadata.get(b.machineId);
    if (md) c.metadata = md;
    return c;
  });
  const bidders = new Set(bids.map((b) => b.machineId));
  const silent = [...round.expected].filter((m) => snap.liveSet.has(m) && !bidders.has(m)).sort();
  const awaited = silent.filter((m) => !wasLate(m));
  const share = awaited.length > 0 ? evenShare(requests, [...bidders], awaited, load) : undefined;
  const decision = placeUnits(share?.now ?? requests, candidates, view, share?.filters ?? defaultFilters);
  const deferred = share?.later ?? [];
  if (share !== undefined) {
    // Units only an even share kept off every bidder that could take them wait too.
    const reason = share.reason;
    const held = decision.unplaced.filter((u) => Object.values(u.reasons).includes(reason)).map((u) => u.unit);
    if (held.length > 0) {
      const later = new Set(held);
      decision.unplaced = decision.unplaced.filter((u) => !later.has(u.unit));
      deferred.push(...held);
    }
  }
  return { decision, bids, silent, deferred, placedBefore };
}

interface EvenShare {
  filters: readonly Filter[];
  reason: string;
  /** Requests to place in this round. */
  now: PlacementRequest[];
  /** Units beyond what the bidders' even shares can hold: not even tried this round. */
  later: string[];
}

/**
 * Each bidder may hold an even share of all units over the bidders and the
 * machines still awaited. Requests beyond the bidders' room are set aside
 * before placing (global units always go ahead): trying them against
 * bidders that are all full would cost every bidder per unit.
 */
function evenShare(requests: readonly PlacementRequest[], bidders: readonly string[], awaited: readonly string[], load: ReadonlyMap<string, number>): EvenShare {
  const machines = bidders.length + awaited.length;
  const globals = requests.filter((r) => r.requirements.global);
  const others = requests.filter((r) => !r.requirements.global).sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0));
  const loadOf = (m: string) => load.get(m) ?? 0;
  const cap = fairShareCap([...bidders, ...awaited].map(loadOf), machines, others.length + globals.length * machines);
  let room = 0;
  for (const b of bidders) room += Math.max(0, cap - loadOf(b) - globals.length);
  return {
    filters: [...defaultFilters, fairShareFilter(cap)],
    reason: reasons.fairShare(cap),
    now: [...globals, ...others.slice(0, room)],
    later: others.slice(room).map((r) => r.unit),
  };
}
