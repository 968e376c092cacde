/**
 * Turning a round's bids into a decision: the bidders still alive are the
 * candidates (with the engine's own load count, newer than the bids', and the
 * machine metadata the engine knows), the offered units that still need a
 * machine are the requests.
 */
import { bidRefusal, type BidRecord } from '../registry/records.js';
import { placeUnits, type Candidate, type Decision, type PlacementRequest } from '../scheduler/index.js';
import type { ClusterState, PlacedEntry } from './cluster-state.js';
import { machinesOfUnits } from './offer-plan.js';
import type { Round } from './round.js';
import { needsPlacement, viewOf, type Snapshot } from './snapshot.js';

export interface Resolution {
  decision: Decision;
  bids: BidRecord[];
  /** Live machines expected to bid that did not. */
  silent: string[];
  /** Units with at least one assignment before this decision. */
  placedBefore: ReadonlyMap<string, ReadonlySet<string>>;
}

export function resolveBids(round: Round, state: ClusterState, snap: Snapshot, kept: readonly PlacedEntry[]): Resolution {
  const bids = round.received().filter((b) => snap.liveSet.has(b.machineId));
  const { view, load } = viewOf(kept, snap);
  const candidates: Candidate[] = bids.map((b) => {
    // Only offered units were judged: anything else was not bid for.
    const refusal = (u: string): string | undefined => {
      const hash = round.hashOf.get(u);
      return hash === undefined ? undefined : bidRefusal(b, u, hash);
    };
    const c: Candidate = {
      machineId: b.machineId,
      load: load.get(b.machineId) ?? 0,
      accepts: { has: (u) => round.hashOf.has(u) && refusal(u) === undefined },
      refuses: { get: refusal },
    };
    const md = snap.metadata.get(b.machineId);
    if (md) c.metadata = md;
    return c;
  });

  const placedBefore = machinesOfUnits(kept);
  const requests: PlacementRequest[] = [];
  for (const o of round.units) {
    const unit = state.unit(o.name);
    // Content replaced since the offer: the hosts judged other content; offer it again.
    if (!unit || unit.hash !== o.hash || !needsPlacement(unit, snap, placedBefore)) continue;
    requests.push({ unit: unit.name, requirements: snap.requirements.get(unit.name)! });
  }
  const bidders = new Set(bids.map((b) => b.machineId));
  const silent = [...round.expected].filter((m) => snap.liveSet.has(m) && !bidders.has(m)).sort();
  return { decision: placeUnits(requests, candidates, view), bids, silent, placedBefore };
}
