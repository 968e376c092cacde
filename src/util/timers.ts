/**
 * Timer delays that are safe to arm. Node fires a timer whose delay is over
 * 2^31 - 1 ms (about 24.8 days), negative or not a number after 1 ms, so a
 * delay computed from the store (a TTL, a deadline) that runs out of range
 * would turn a wait into a busy loop. Clamped, such a timer fires late
 * instead, and whoever armed it computes the remaining wait again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` clamped to what setTimeout honours; a delay that is not a finite number waits the longest. */
export function timerDelay(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}
