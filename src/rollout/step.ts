/**
 * The engine-side rolling replace, decided in one pure step: given the
 * rollout's record (as stored in etcd), what every host reports for each unit
 * in flight, and the time, return the next record, which units to replace or
 * revert now, and when to look again. The engine persists the record in the
 * same fenced txn as the replacements it writes, so a new leader resumes from
 * the record alone: nothing lives in memory between steps.
 */
import type { RolloutRecord, RolloutRunState, RolloutUnitPhase, RolloutUnitRecord } from '../registry/records.js';
import { formatDuration } from '../util/duration.js';
import type { Health } from './health.js';

// The record is stored in etcd (P/rollouts/<source>); its shape and strict decoder live with the other records.
export type UnitPhase = RolloutUnitPhase;
export type UnitProgress = RolloutUnitRecord;
export type RolloutState = RolloutRunState;
export type { RolloutRecord };

/** Health of one unit in flight, over all hosts that must run it (worst wins). */
export type ObserveHealth = (unit: string, hash: string) => Health;

export interface RolloutStep {
  record: RolloutRecord;
  /** Units whose new content to write now. */
  replace: string[];
  /** Units whose previous content to write back now (auto-revert). */
  revert: Array<{ unit: string; hash: string }>;
  /** When to step again without news (undefined: the rollout ended). */
  wakeAt?: number;
}

/**
 * A 'failed' seen this soon after the replacement was written is not
 * believed yet: an agent may report the new hash with the old content's
 * systemd state (failed, from a broken previous content) for a moment
 * before its start job for the new content runs. Judged again after this.
 */
export const FAILED_SETTLE_MS = 1500;

function worst(a: Health, b: Health): Health {
  if (a === 'failed' || b === 'failed') return 'failed';
  return a === 'pending' || b === 'pending' ? 'pending' : 'healthy';
}
export const combineHealth = (hs: readonly Health[]): Health => hs.reduce<Health>(worst, hs.length === 0 ? 'pending' : 'healthy');

export function stepRollout(rec: RolloutRecord, observe: ObserveHealth, now: number): RolloutStep {
  if (rec.state !== 'running') return { record: rec, replace: [], revert: [] };
  const { maxParallel, minHealthyMs, healthyDeadlineMs, autoRevert } = rec.opts;
  const units = rec.units.map((u) => ({ ...u }));
  let wakeAt: number | undefined;
  const wake = (t: number): void => { wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t); };
  let failure: UnitProgress | undefined;
  for (const u of units) {
    if (u.phase !== 'inflight') continue;
    const started = u.startedAt ?? now;
    const h = observe(u.name, u.hash);
    if (h === 'healthy') {
      u.healthySince ??= now;
      if (now - u.healthySince >= minHealthyMs) u.phase = 'done';
      else wake(u.healthySince + minHealthyMs);
      continue;
    }
    delete u.healthySince;
    const late = now - started >= healthyDeadlineMs;
    if (h === 'failed' && !late && now - started < FAILED_SETTLE_MS) {
      wake(started + FAILED_SETTLE_MS);
      continue;
    }
    if (h === 'failed' || late) {
      u.phase = 'failed';
      u.reason = h === 'failed' ? 'failed to start' : `not healthy within ${formatDuration(healthyDeadlineMs)}`;
      failure ??= u;
    } else wake(started + healthyDeadlineMs);
  }
  if (failure) {
    const revert = autoRevert
      ? units.filter((u) => (u.phase === 'failed' || u.phase === 'inflight') && u.previousHash !== undefined)
      : [];
    for (const u of revert) u.phase = 'reverted';
    const error = `${failure.name}: ${failure.reason ?? 'unhealthy'}; rollout stopped${autoRevert ? ', previous content put back' : ''}`;
    return {
      record: { ...rec, units, state: 'failed', error },
      replace: [],
      revert: revert.map((u) => ({ unit: u.name, hash: u.previousHash as string })),
    };
  }
  const replace: string[] = [];
  let inflight = units.filter((u) => u.phase === 'inflight').length;
  for (const u of units) {
    if (inflight >= maxParallel) break;
    if (u.phase !== 'pending') continue;
    u.phase = 'inflight';
    u.startedAt = now;
    replace.push(u.name);
    inflight++;
    wake(now + healthyDeadlineMs);
  }
  const finished = units.every((u) => u.phase === 'done');
  return {
    record: { ...rec, units, state: finished ? 'done' : 'running' },
    replace,
    revert: [],
    wakeAt: finished ? undefined : wakeAt,
  };
}
