/**
 * The health gate of one thing in flight — a unit, or one host of a global
 * unit rolling host by host: healthy for min-healthy-time is done, failed
 * (once believed) or not healthy by the deadline is a failure, anything
 * else waits. Pure; shared by step.ts and global-step.ts so both judge alike.
 */
import type { RolloutPacing } from '../registry/records.js';
import { formatDuration } from '../util/duration.js';
import type { Health } from './health.js';

/**
 * A 'failed' seen this soon after the replacement was written is not
 * believed yet: an agent may report the new hash with the old content's
 * systemd state (failed, from a broken previous content) for a moment
 * before its start job for the new content runs. Judged again after this.
 */
export const FAILED_SETTLE_MS = 1500;

export type Verdict = 'done' | 'waiting' | { reason: string };

/** Judges `p` (its `healthySince` is updated in place); `wake` is told when to look again. */
export function judge(p: { startedAt?: number; healthySince?: number }, h: Health, now: number, o: RolloutPacing, wake: (t: number) => void): Verdict {
  const started = p.startedAt ?? now;
  if (h === 'healthy') {
    p.healthySince ??= now;
    if (now - p.healthySince >= o.minHealthyMs) return 'done';
    wake(p.healthySince + o.minHealthyMs);
    return 'waiting';
  }
  delete p.healthySince;
  const late = now - started >= o.healthyDeadlineMs;
  if (h === 'failed' && !late && now - started < FAILED_SETTLE_MS) {
    wake(started + FAILED_SETTLE_MS);
    return 'waiting';
  }
  if (h === 'failed' || late) return { reason: h === 'failed' ? 'failed to start' : `not healthy within ${formatDuration(o.healthyDeadlineMs)}` };
  wake(started + o.healthyDeadlineMs);
  return 'waiting';
}
