/**
 * What a resolved round writes, in one batch: new assignments, moves (the
 * old assignment deleted, the new one put), P/unplaced records for units no
 * bidder could take (plus the live machines that stayed silent). Pure: the
 * batch, the drafted unplaced changes and the log lines are the plan the
 * Engine applies. What the hosts said is remembered by recordAnswers, the
 * applier's step once the decision is written, so the same content is not
 * offered to them again for nothing.
 */
import type { Keys } from '../registry/keys.js';
import { encode, NO_LIVE_MACHINE, type UnitRecord } from '../registry/records.js';
import { assignmentFor } from './assignments.js';
import type { Batch } from './batch.js';
import type { EngineView, PlacedEntry } from './engine-view.js';
import { NO_MACHINE } from './offer-plan.js';
import { SILENT, type Refusals } from './refusals.js';
import type { Resolution } from './resolve.js';
import type { Round } from './round.js';
import type { Snapshot } from './snapshot.js';
import type { UnplacedDraft } from './unplaced-book.js';
import type { PlanLog } from './plan.js';

export interface DecisionContext {
  batch: Batch;
  keys: Keys;
  book: UnplacedDraft;
  state: EngineView;
  snap: Snapshot;
  log: PlanLog;
  round: Round;
  now: Date;
}

export function writeDecision(ctx: DecisionContext, res: Resolution, kept: readonly PlacedEntry[]): void {
  const { batch, keys, book, state, snap, log, round } = ctx;
  const { decision, silent } = res;
  const assign = (machineId: string, unit: UnitRecord): void => {
    if (unit.desired === 'inactive') return;
    batch.put(keys.assignment(machineId, unit.name), encode(assignmentFor(state, unit, machineId)));
    batch.touchesAssignments = true;
    book.clear(unit.name);
  };

  const placedNow = new Set(kept.map((a) => a.record.unit));
  for (const p of decision.placements) {
    const unit = state.unit(p.unit);
    if (!unit) continue;
    assign(p.machineId, unit);
    placedNow.add(p.unit);
    log.info({ unit: p.unit, machine: p.machineId, round: round.id }, 'scheduled unit');
  }
  for (const mv of decision.moves) {
    batch.delete(keys.assignment(mv.from, mv.unit));
    batch.touchesAssignments = true;
    const unit = state.unit(mv.unit);
    if (mv.to !== undefined && unit) assign(mv.to, unit);
    else if (!snap.requirements.get(mv.unit)?.global) placedNow.delete(mv.unit);
    log.info({ unit: mv.unit, from: mv.from, to: mv.to ?? null, reason: mv.reason, round: round.id }, 'moving unit');
  }
  for (const u of decision.unplaced) {
    const unit = state.unit(u.unit);
    if (!unit) continue;
    if (placedNow.has(u.unit)) {
      book.clear(u.unit); // a global unit that runs somewhere
      continue;
    }
    const reasons: Record<string, string> = { ...u.reasons };
    for (const m of silent) reasons[m] = SILENT;
    if (snap.live.length === 0) reasons[NO_LIVE_MACHINE] = NO_MACHINE;
    book.set(u.unit, unit.hash, reasons, ctx.now);
    log.info({ unit: u.unit, reasons, round: round.id }, 'no machine can run unit now');
  }
  batch.delete(keys.offer(round.id));
  batch.deletePrefix(keys.roundBidsPrefix(round.id));
}

/** Remember host refusals of this content, and which live machines said nothing. */
export function recordAnswers(refusals: Refusals, round: Round, res: Resolution, state: EngineView): void {
  for (const bid of res.bids) {
    refusals.heardFrom(bid.machineId);
    for (const [hash, why] of Object.entries(bid.refuseContent)) refusals.recordContent(hash, bid.machineId, why);
    for (const [name, why] of Object.entries(bid.refuseUnit)) {
      const unit = state.unit(name);
      if (unit && round.hashOf.get(name) === unit.hash) refusals.record(unit, bid.machineId, why);
    }
  }
  for (const m of res.silent) refusals.recordSilence(m, round.hashOf);
}
