/**
 * The engine's decisions, as pure functions of a snapshot and the engine's
 * memory: `decide` plans one reconcile step, `decideResolution` plans what a
 * resolved round writes. Neither does I/O, reads a clock or changes
 * anything; the Engine (engine.ts) gathers the snapshot, calls them and
 * applies the plan through the fence.
 *
 * Words: a *step* is one reconcile pass (decide, then apply); a *round* is
 * one offer/bid exchange with the hosts, opened by a step and resolved when
 * the bids are in.
 */
import type { Keys } from '../registry/keys.js';
import { encode } from '../registry/records.js';
import { assignmentFor, checkAssignments } from './assignments.js';
import { Batch } from './batch.js';
import { recordAnswers, writeDecision } from './decision-writes.js';
import { planDirect } from './direct-plan.js';
import type { EngineView, PlacedEntry } from './engine-view.js';
import { planOffer, type RoundLimits } from './offer-plan.js';
import { emptyPlan, PlanLog, type EnginePlan } from './plan.js';
import type { RefusalsView } from './refusals.js';
import { resolveBids, type Resolution } from './resolve.js';
import type { Round } from './round.js';
import type { Snapshot } from './snapshot.js';
import { UnplacedDraft, type BookChange, type BookView } from './unplaced-book.js';

/** One consistent picture for one step. */
export interface EngineSnapshot {
  view: EngineView;
  snap: Snapshot;
  now: Date;
}

/** What the engine remembers between steps and brings to each decision. */
export interface EngineMemory {
  keys: Keys;
  limits: RoundLimits;
  refusals: RefusalsView;
  book: BookView;
  /** A round is open: its resolution comes first. */
  roundOpen: boolean;
  /** A round's decision is being written. */
  resolving: boolean;
  /** Store revision of the engine's last assignment write. */
  assignmentsWrittenAt: number;
  /** The Replaces cycles last reported. */
  reportedCycles: string;
}

/**
 * Why the engine must not decide now, if so: the one home of the busy rule
 * (the Engine's `busy` and `decide` both ask it). A step while a round is
 * open or being written would redo the same work per event; one before the
 * assignments cache shows our own last write would place the same units again.
 */
/** Destroyed units whose assignments one step deletes (each is a compare; etcd allows 128, the fence and the rollouts condition need two). */
export const REQUIRE_ABSENT_MAX = 100;

export function busyWith(memory: Pick<EngineMemory, 'roundOpen' | 'resolving' | 'assignmentsWrittenAt'>, assignmentsRevision: number): string | undefined {
  if (memory.roundOpen) return 'a round is open';
  if (memory.resolving) return 'a round is being written';
  if (assignmentsRevision < memory.assignmentsWrittenAt) return 'own assignment write not seen yet';
  return undefined;
}

/**
 * Plan one step: check existing assignments (housekeeping and placement
 * rules, see assignments.ts) and unschedule what no longer holds; once the
 * cache shows that, place content with nothing for hosts to check directly
 * (direct-plan.ts), else plan an offer for the rest (offer-plan.ts), and
 * keep P/unplaced current.
 */
export function decide(input: EngineSnapshot, memory: EngineMemory): EnginePlan {
  const { view, snap, now } = input;
  const plan = emptyPlan(memory.reportedCycles);
  if (busyWith(memory, view.assignmentsRevision) !== undefined) return plan;
  const log = new PlanLog();
  plan.log = log.lines;
  const cycles = snap.replaces.ignoredCycles.map((c) => c.join(' ')).join('; ');
  if (cycles !== memory.reportedCycles) {
    plan.cycles = cycles;
    if (cycles) log.warn({ cycles }, 'these units replace each other in a cycle: their Replaces are ignored');
  }

  const batch = plan.writes;
  const changes = checkAssignments(view, snap, now.getTime());
  plan.departures = changes.departures;
  if (changes.wakeAt !== undefined) plan.wakeAt = changes.wakeAt;
  const gone = new Map<string, string[]>();
  for (const { entry, reason, rule } of changes.deletes) {
    const destroyed = view.unit(entry.record.unit) === undefined && !view.unitUnreadable(entry.record.unit);
    const absentKey = memory.keys.unit(entry.record.unit);
    // Each destroyed unit is one compare in every transaction of the batch, and etcd takes at most
    // 128 compares: the rest are unscheduled by the next step, which the deletes' watch events kick.
    if (destroyed && snap.liveSet.has(entry.machineId) && !batch.requireAbsent.has(absentKey) && batch.requireAbsent.size >= REQUIRE_ABSENT_MAX) continue;
    log.info({ unit: entry.record.unit, machine: entry.machineId, reason }, 'unscheduling unit');
    if (!snap.liveSet.has(entry.machineId)) {
      gone.set(entry.machineId, [...(gone.get(entry.machineId) ?? []), entry.key]);
      continue;
    }
    batch.delete(entry.key);
    batch.touchesAssignments = true;
    // Deleted as destroyed only if etcd agrees (see Batch.requireAbsent); an unreadable record is there but is no unit.
    if (destroyed) batch.requireAbsent.add(absentKey);
    plan.unscheduled.push({ unit: entry.record.unit, machineId: entry.machineId, reason, rule });
  }
  for (const key of changes.unreadable) {
    log.info({ key }, 'deleting an assignment key that names no machine and unit');
    batch.delete(key);
    batch.touchesAssignments = true;
  }
  if (gone.size > 0) {
    // Releasing ends this step: what was written must reach the cache, and a
    // machine that came back must be seen as live before anything is placed.
    plan.releases = [...gone].map(([machineId, keys]) => ({ machineId, keys }));
    plan.writes = new Batch();
    plan.unscheduled = [];
    return plan;
  }
  for (const { entry, record } of changes.updates) {
    batch.put(entry.key, encode(record));
    batch.touchesAssignments = true;
  }
  // Place nothing until the cache shows these changes.
  if (batch.touchesAssignments) return plan;

  const book = new UnplacedDraft(memory.book, memory.keys, batch);
  const placed = new Set(changes.kept.map((a) => a.record.unit));
  const direct = planDirect(view, snap, changes.kept, memory.refusals);
  for (const p of direct.placements) {
    const unit = view.unit(p.unit)!;
    batch.put(memory.keys.assignment(p.machineId, p.unit), encode(assignmentFor(view, unit, p.machineId)));
    batch.touchesAssignments = true;
    placed.add(p.unit);
    plan.placed.push(p);
    log.info({ unit: p.unit, machine: p.machineId, direct: true }, 'scheduled unit');
  }
  for (const [unit, { hash, reasons }] of direct.unplaced) book.set(unit, hash, reasons, now);
  // With direct placements written, the round waits for the next step, when
  // the cache shows them: its offer and resolution then see their load and rules.
  const offer = batch.touchesAssignments ? undefined : planOffer(view, snap, changes.kept, memory.refusals, memory.limits, direct.units);
  for (const [unit, { hash, reasons }] of offer?.unplaced ?? []) book.set(unit, hash, reasons, now);
  for (const unit of book.units()) {
    const record = view.unit(unit);
    if (!record || record.desired === 'inactive' || placed.has(unit)) book.clear(unit);
  }
  plan.unplaced = book.changes;
  if (offer && offer.units.length > 0) plan.round = { units: offer.units, contents: offer.contents, machines: snap.live };
  return plan;
}

/** The plan of a resolved round. */
export interface ResolutionPlan {
  writes: Batch;
  unplaced: BookChange[];
  departures: string[];
  log: PlanLog['lines'];
  resolution: Resolution;
}

/** Turn a round's bids into writes (resolve.ts decides, decision-writes.ts words it as writes). */
export function decideResolution(input: EngineSnapshot, memory: EngineMemory, round: Round): ResolutionPlan {
  const { view, snap, now } = input;
  const changes = checkAssignments(view, snap, now.getTime());
  const kept: readonly PlacedEntry[] = changes.kept;
  const refusals = memory.refusals;
  const res = resolveBids(round, view, snap, kept, (m) => refusals.wasSilent(m), (u, m) => refusals.refused(u, m), memory.limits.units);
  const log = new PlanLog();
  if (res.deferred.length > 0) log.info({ round: round.id, deferred: res.deferred.length, late: res.silent.length }, 'machines did not bid in time: units beyond the bidders\' even share wait for the next round');
  const writes = new Batch();
  const book = new UnplacedDraft(memory.book, memory.keys, writes);
  writeDecision({ batch: writes, keys: memory.keys, book, state: view, snap, log, round, now }, res, kept);
  return { writes, unplaced: book.changes, departures: changes.departures, log: log.lines, resolution: res };
}

export { recordAnswers };
