/**
 * Direct placement. Content with nothing for a host to check (no Condition,
 * Assert or MachineMetadata line: see src/unit/host-judgement.ts) is
 * accepted by every host unread, so a bid for it would tell the engine
 * nothing it does not know: machines, metadata and every [X-Fleet] rule are
 * in its caches and the scheduler is pure. Such units are placed by the
 * step itself, with the same scheduler and filters a round uses, without an
 * offer and without waiting for bids.
 *
 * Still placed through a round: host-checked content; units in a Replaces
 * relation (a replacer may displace a unit whose new host must bid on it);
 * and followers (MachineOf) of a peer that itself waits for a round, so
 * peers are placed together as before. Live machines that missed an earlier
 * round and have not been heard from since take nothing directly: an agent
 * that does not answer offers is no candidate for a round either.
 */
import type { UnitRecord } from '../registry/records.js';
import { placeUnits, type Candidate, type Placement, type PlacementRequest } from '../scheduler/index.js';
import type { EngineView, PlacedEntry } from './engine-view.js';
import { machinesOfUnits } from './offer-plan.js';
import { SILENT, type RefusalsView } from './refusals.js';
import { needsPlacement, viewOf, type Snapshot } from './snapshot.js';

export interface DirectPlan {
  placements: Placement[];
  /** Direct units no machine can take now, with the reasons per machine. */
  unplaced: Map<string, { hash: string; reasons: Record<string, string> }>;
  /** Every unit this plan decided for: the offer leaves them out. */
  units: ReadonlySet<string>;
}

const ACCEPTS_ALL = { has: (): boolean => true };
const REFUSES_NONE = { get: (): string | undefined => undefined };

export function planDirect(state: EngineView, snap: Snapshot, kept: readonly PlacedEntry[], refusals: RefusalsView): DirectPlan {
  const empty: DirectPlan = { placements: [], unplaced: new Map(), units: new Set() };
  if (snap.live.length === 0) return empty; // the offer plan says why nothing runs
  const machinesOf = machinesOfUnits(kept);
  const needing = new Map<string, UnitRecord>();
  for (const unit of state.unitRecords()) {
    if (!snap.broken.has(unit.name) && needsPlacement(unit, snap, machinesOf)) needing.set(unit.name, unit);
  }
  const direct = new Set<string>();
  for (const [name, unit] of needing) {
    if (state.hostJudgement(unit.hash).needed) continue;
    if (snap.replaces.replacedBy(name).size > 0 || snap.replaces.replacersOf(name).size > 0) continue;
    direct.add(name);
  }
  // A follower whose peer waits for a round waits with it (until nothing changes).
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of direct) {
      const peers = snap.requirements.get(name)!.machineOf;
      if (peers.some((p) => needing.has(p) && !direct.has(p))) {
        direct.delete(name);
        changed = true;
      }
    }
  }
  if (direct.size === 0) return empty;

  const { view, load } = viewOf(kept, snap);
  const silent = snap.live.filter((m) => refusals.wasSilent(m));
  const candidates: Candidate[] = snap.live
    .filter((m) => !refusals.wasSilent(m))
    .map((m) => {
      const c: Candidate = { machineId: m, load: load.get(m) ?? 0, accepts: ACCEPTS_ALL, refuses: REFUSES_NONE };
      const md = snap.metadata.get(m);
      if (md) c.metadata = md;
      return c;
    });
  const requests: PlacementRequest[] = [...direct].map((unit) => ({ unit, requirements: snap.requirements.get(unit)! }));
  const decision = placeUnits(requests, candidates, view);
  const unplaced: DirectPlan['unplaced'] = new Map();
  for (const u of decision.unplaced) {
    if (machinesOf.has(u.unit)) continue; // a global unit that runs somewhere
    const reasons: Record<string, string> = { ...u.reasons };
    for (const m of silent) reasons[m] = SILENT;
    unplaced.set(u.unit, { hash: needing.get(u.unit)!.hash, reasons });
  }
  return { placements: decision.placements, unplaced, units: direct };
}
