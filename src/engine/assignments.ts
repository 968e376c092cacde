/**
 * Which existing assignments stand. Housekeeping first (unit destroyed or
 * set inactive, machine gone, a second copy of a non-global unit, content or
 * desired state changed), then re-evaluation of the placement rules the
 * engine can judge (src/scheduler/evaluate.ts): whatever no longer holds is
 * unscheduled, and the next round places it again, followers with their peer.
 *
 * An assignment whose value does not decode (corrupt, or edited by hand) is
 * judged as the assignment its key names: where that one stands it is
 * rewritten, so the host running the unit keeps it (its agent leaves a unit
 * with an unreadable assignment as it is); otherwise it is deleted like any
 * other. A key that names no machine and unit is deleted.
 */
import type { AssignmentRecord, UnitRecord } from '../registry/records.js';
import { evaluatePlacements } from '../scheduler/index.js';
import type { EngineView, PlacedEntry } from './engine-view.js';
import type { Snapshot } from './snapshot.js';

export interface AssignmentChanges {
  /** Assignments that stay, oldest first. */
  kept: PlacedEntry[];
  deletes: Array<{ entry: PlacedEntry; reason: string; /** a placement rule broke (not housekeeping) */ rule: boolean }>;
  updates: Array<{ entry: PlacedEntry; record: AssignmentRecord }>;
  /** Keys under the assignments prefix that name no machine and unit: deleted. */
  unreadable: string[];
  /** Earliest time a held-back OnDisconnect=stop unit may be placed again. */
  wakeAt?: number;
  /** Gone machines with no departure on record: to be recorded as leaving `now` (the safe side). */
  departures: string[];
}

export function checkAssignments(state: EngineView, snap: Snapshot, now: number): AssignmentChanges {
  const out: AssignmentChanges = { kept: [], deletes: [], updates: [], unreadable: [], departures: [] };
  const repair = new Set<string>();
  const entries = [...state.placedAssignments()];
  for (const m of state.malformedAssignments()) {
    if (!m.at) {
      out.unreadable.push(m.key);
      continue;
    }
    const unit = state.unit(m.at.unit);
    // Destroyed or inactive: a placeholder record, deleted below like any assignment of such a unit.
    const record: AssignmentRecord = unit && unit.desired !== 'inactive' ? assignmentFor(state, unit, m.at.machineId) : { unit: m.at.unit, hash: '', desired: 'loaded' };
    entries.push({ key: m.key, machineId: m.at.machineId, record, since: m.since });
    repair.add(m.key);
  }
  entries.sort((a, b) => a.since - b.since || (a.key < b.key ? -1 : 1));
  const seen = new Set<string>();
  const held: PlacedEntry[] = [];
  const unrecorded = new Set<string>();
  for (const entry of entries) {
    const unit = state.unit(entry.record.unit);
    const stops = unit !== undefined && snap.requirements.get(unit.name)?.onDisconnect === 'stop';
    if (stops && unit.desired !== 'inactive' && !snap.liveSet.has(entry.machineId)) {
      // At most once: the gone host may still run it until its own switch has
      // fired; keep it counted as placed there until the grace has passed.
      let until = state.stopDeadline(entry.machineId);
      if (until === undefined) {
        until = state.assumedStopDeadline(now);
        if (!unrecorded.has(entry.machineId)) out.departures.push(entry.machineId);
        unrecorded.add(entry.machineId);
      }
      if (now < until) {
        held.push(entry);
        seen.add(unit.name);
        out.wakeAt = Math.min(out.wakeAt ?? Infinity, until);
        continue;
      }
    }
    const gone = !unit
      ? 'unit destroyed'
      : unit.desired === 'inactive'
        ? 'desired state inactive'
        : !snap.liveSet.has(entry.machineId)
          ? `machine ${entry.machineId} went away`
          : undefined;
    if (gone !== undefined || !unit) {
      out.deletes.push({ entry, reason: gone ?? 'unit destroyed', rule: false });
      continue;
    }
    const reqs = snap.requirements.get(unit.name);
    if (reqs && !reqs.global && seen.has(unit.name)) {
      // Never two copies of a non-global unit: the oldest stays.
      out.deletes.push({ entry, reason: 'second copy of a non-global unit', rule: false });
      continue;
    }
    seen.add(unit.name);
    out.kept.push(entry);
    const record = assignmentFor(state, unit, entry.machineId);
    if (repair.has(entry.key) || entry.record.hash !== record.hash || entry.record.desired !== unit.desired) out.updates.push({ entry, record });
  }

  const violations = evaluatePlacements({
    assigned: out.kept.map((e) => ({ unit: e.record.unit, machineId: e.machineId, since: e.since })),
    metadata: snap.metadata,
    requirements: snap.requirements,
    replaces: snap.replaces,
  });
  if (violations.length === 0) {
    out.kept.push(...held);
    return out;
  }
  const broken = new Map(violations.map((v) => [`${v.machineId}\0${v.unit}`, v.reason] as const));
  const at = (e: PlacedEntry): string | undefined => broken.get(`${e.machineId}\0${e.record.unit}`);
  for (const entry of out.kept) {
    const reason = at(entry);
    if (reason !== undefined) out.deletes.push({ entry, reason, rule: true });
  }
  out.kept = out.kept.filter((e) => at(e) === undefined);
  out.updates = out.updates.filter((u) => at(u.entry) === undefined);
  out.kept.push(...held);
  return out;
}

/**
 * The assignment of `unit` on `machineId`: the unit record's content, unless
 * a rollout pins this host to the previous one (a global unit rolling host by
 * host, src/rollout/pins.ts). Every assignment the engine writes (a placement,
 * a move, an update, a repair) comes from here, so a pinned host that loses
 * and regains its assignment (a lost lease) still waits for its turn.
 */
export function assignmentFor(view: Pick<EngineView, 'rolloutPin'>, unit: UnitRecord, machineId: string): AssignmentRecord {
  if (unit.desired === 'inactive') throw new Error(`unit ${unit.name} is inactive: nothing to assign`);
  return { unit: unit.name, hash: view.rolloutPin(unit.name, unit.hash, machineId) ?? unit.hash, desired: unit.desired };
}
