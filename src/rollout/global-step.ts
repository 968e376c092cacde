/**
 * A global unit rolls host by host (issue 11). Pure pieces of stepRollout
 * (step.ts) for a unit that has a host list (`hosts` in its record):
 *
 * 1. When it starts, its hosts (those reporting it now) are recorded, all
 *    `pending`, and nothing else is written: the unit record keeps the old
 *    content in that pass.
 * 2. On the next pass (the host list is then committed: it came in the
 *    record as read) the unit record gets the new content, marked by the
 *    unit's `startedAt`. The engine's pins (pins.ts) keep every `pending`
 *    host on the previous content. Why two passes: the engine watches unit
 *    records and rollout records separately; if it saw the new hash before
 *    the host list, it would write the new content to every host at once.
 *    With the list committed a pass earlier, the rollouts watch has it
 *    before the unit record changes, as long as it is not a whole pass
 *    behind the units watch; if it is, the engine's assignment writes are
 *    refused anyway (they require its rollouts cache to be current, see
 *    Engine.stepConditions) and retried once the cache has the list.
 * 3. Host by host, as room under max-parallel allows (each in-flight host
 *    takes a slot, like an in-flight unit), a host goes `inflight` (its pin
 *    lifts, the engine writes the new content there) and is judged from its
 *    own state alone: `done` after min-healthy-time, failed on a failure or
 *    at the deadline. The unit is done when all its hosts are done.
 *
 * A host that no longer reports the unit (it left, or the unit left it):
 * in flight, it is not healthy, and fails the rollout at the deadline if it
 * does not come back healthy: the new content may be what took it down (a
 * crash of its agent or of the host drops its state records), and dropping
 * it would let such content take down every host in turn. Still pending, it stays pending (pinned: back before its turn, it keeps
 * the old content until then) and is skipped when the next host is chosen;
 * once every host still there is done, it is done too (dropped) and the
 * unit is done: back after that, it runs the unit record's content.
 */
import type { RolloutHostRecord, RolloutPacing, RolloutUnitRecord } from '../registry/records.js';
import type { Health } from './health.js';
import { judge } from './judge.js';

/** What the step sees of global units (the driver reads it from the cluster). */
export interface HostView {
  /** The hosts a unit runs on now if it rolls host by host (global); undefined: it goes in one step. */
  hostsOf(unit: string): readonly string[] | undefined;
  /** The unit's health at `hash` on one host; 'gone': that host does not report the unit. */
  onHost(unit: string, hash: string, machineId: string): Health | 'gone';
}

/** No unit is global: every unit goes in one step. */
export const ONE_STEP: HostView = { hostsOf: () => undefined, onHost: () => 'gone' };

export type GlobalUnit = RolloutUnitRecord & { hosts: RolloutHostRecord[] };
export const hasHosts = (u: RolloutUnitRecord): u is GlobalUnit => u.hosts !== undefined;

/** Its host list is recorded, the unit record not written yet (step 1 done, step 2 to come). */
export const awaitingWrite = (u: RolloutUnitRecord): boolean => u.hosts !== undefined && u.startedAt === undefined;

/** The record of a global unit starting (step 1): in flight, every host pending, no start time yet. */
export function withHosts(u: RolloutUnitRecord, machines: readonly string[]): GlobalUnit {
  const hosts = [...new Set(machines)].sort().map((machineId): RolloutHostRecord => ({ machineId, phase: 'pending' }));
  return { ...u, phase: 'inflight', hosts };
}

/** Slots of max-parallel a global unit in flight takes: its hosts in flight. */
export const hostSlots = (u: GlobalUnit): number => u.hosts.filter((h) => h.phase === 'inflight').length;

/**
 * Step 2 and the judging of step 3 for a global unit in flight (`u` is the
 * step's own copy, changed in place): returns whether the unit record is to
 * get the new content now, and the failure, if a host failed.
 */
export function judgeHosts(u: GlobalUnit, view: HostView, o: RolloutPacing, now: number, wake: (t: number) => void): { write: boolean; failure?: string } {
  const write = u.startedAt === undefined;
  if (write) u.startedAt = now;
  u.hosts = u.hosts.map((h) => ({ ...h }));
  let failure: string | undefined;
  let open = false;
  for (const h of u.hosts) {
    if (h.phase !== 'pending' && h.phase !== 'inflight') continue;
    const seen = view.onHost(u.name, u.hash, h.machineId);
    if (h.phase === 'pending') {
      if (seen !== 'gone') open = true;
      continue;
    }
    // Gone in flight: not healthy (see above), judged like a host still starting.
    const v = judge(h, seen === 'gone' ? 'pending' : seen, now, o, wake);
    if (v === 'done') h.phase = 'done';
    else if (v === 'waiting') open = true;
    else {
      h.phase = 'failed';
      failure ??= `${v.reason} on ${h.machineId.slice(0, 12)}`;
    }
  }
  if (failure !== undefined) {
    u.phase = 'failed';
    u.reason = failure;
    return { write, failure };
  }
  if (!open) {
    // Every host still there is done: pending hosts that left are dropped.
    for (const h of u.hosts) if (h.phase === 'pending') h.phase = 'done';
    u.phase = 'done';
  }
  return { write };
}

/** Step 3's starts: up to `room` pending hosts still there go in flight; how many did. */
export function startHosts(u: GlobalUnit, room: number, view: HostView, o: RolloutPacing, now: number, wake: (t: number) => void): number {
  let started = 0;
  u.hosts = u.hosts.map((h) => {
    if (started >= room || h.phase !== 'pending' || view.onHost(u.name, u.hash, h.machineId) === 'gone') return h;
    started++;
    wake(now + o.healthyDeadlineMs);
    return { machineId: h.machineId, phase: 'inflight', startedAt: now };
  });
  return started;
}

/** --auto-revert over a global unit: hosts that had moved are marked reverted (pins keep them on the previous content). */
export function revertHosts(u: GlobalUnit): void {
  u.hosts = u.hosts.map((h) => (h.phase === 'pending' ? h : { machineId: h.machineId, phase: 'reverted' }));
}
