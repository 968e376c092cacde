/**
 * The engine-side rolling replace, decided in one pure step: given the
 * rollout's record (as stored in etcd), what every host reports for each unit
 * in flight, and the time, return the next record, which units to replace or
 * revert now, and when to look again. The engine persists the record in the
 * same fenced txn as the replacements it writes, so a new leader resumes from
 * the record alone: nothing lives in memory between steps.
 */
import type { RolloutRecord, RolloutRunState, RolloutUnitPhase, RolloutUnitRecord } from '../registry/records.js';
import { type HostView, ONE_STEP, hasHosts, hostSlots, judgeHosts, revertHosts, startHosts, withHosts } from './global-step.js';
import type { Health } from './health.js';
import { judge } from './judge.js';

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

export { FAILED_SETTLE_MS } from './judge.js';

function worst(a: Health, b: Health): Health {
  if (a === 'failed' || b === 'failed') return 'failed';
  return a === 'pending' || b === 'pending' ? 'pending' : 'healthy';
}
export const combineHealth = (hs: readonly Health[]): Health => hs.reduce<Health>(worst, hs.length === 0 ? 'pending' : 'healthy');

/**
 * `hosts` says which units are global (they roll host by host, see
 * global-step.ts) and how each host is; without it every unit goes in one step.
 */
export function stepRollout(rec: RolloutRecord, observe: ObserveHealth, now: number, hosts: HostView = ONE_STEP): RolloutStep {
  if (rec.state !== 'running') return { record: rec, replace: [], revert: [] };
  const { maxParallel, autoRevert } = rec.opts;
  const units = rec.units.map((u) => ({ ...u }));
  let wakeAt: number | undefined;
  const wake = (t: number): void => { wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t); };
  let failure: UnitProgress | undefined;
  const replace: string[] = [];
  for (const u of units) {
    if (u.phase !== 'inflight') continue;
    if (hasHosts(u)) {
      const g = judgeHosts(u, hosts, rec.opts, now, wake);
      if (g.write) replace.push(u.name);
      if (g.failure !== undefined) failure ??= u;
      continue;
    }
    const v = judge(u, observe(u.name, u.hash), now, rec.opts, wake);
    if (v === 'done') u.phase = 'done';
    else if (v !== 'waiting') {
      u.phase = 'failed';
      u.reason = v.reason;
      failure ??= u;
    }
  }
  if (failure) {
    const revert = autoRevert
      ? units.filter((u) => (u.phase === 'failed' || u.phase === 'inflight') && u.previousHash !== undefined)
      : [];
    for (const u of revert) {
      u.phase = 'reverted';
      if (hasHosts(u)) revertHosts(u);
    }
    const error = `${failure.name}: ${failure.reason ?? 'unhealthy'}; rollout stopped${autoRevert ? ', previous content put back' : ''}`;
    return {
      record: { ...rec, units, state: 'failed', error },
      replace: [],
      revert: revert.map((u) => ({ unit: u.name, hash: u.previousHash as string })),
    };
  }
  // Each unit in flight takes a slot of max-parallel; a global one, a slot per host in flight.
  let room = maxParallel - units.reduce((n, u) => n + (u.phase !== 'inflight' ? 0 : hasHosts(u) ? hostSlots(u) : 1), 0);
  for (const [i, u] of units.entries()) {
    if (room <= 0) break;
    if (u.phase === 'inflight' && hasHosts(u)) {
      room -= startHosts(u, room, hosts, rec.opts, now, wake);
      continue;
    }
    if (u.phase !== 'pending') continue;
    const machines = u.previousHash !== undefined ? hosts.hostsOf(u.name) : undefined;
    if (machines) {
      // Step 1: only the host list this pass (its slot kept); the new content on the next, at once.
      units[i] = withHosts(u, machines);
      room--;
      wake(now);
      continue;
    }
    u.phase = 'inflight';
    u.startedAt = now;
    replace.push(u.name);
    room--;
    wake(now + rec.opts.healthyDeadlineMs);
  }
  const finished = units.every((u) => u.phase === 'done');
  return {
    record: { ...rec, units, state: finished ? 'done' : 'running' },
    replace,
    revert: [],
    wakeAt: finished ? undefined : wakeAt,
  };
}
