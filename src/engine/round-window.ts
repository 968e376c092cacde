/**
 * The timer of an open round (see Round): resolve once half the expected
 * machines have bid and none bid for a window, else wait on, at most
 * ROUND_LIMIT_WINDOWS windows. The Engine owns one; its decisions know
 * nothing of time.
 */
import type { Round } from './round.js';

/** A round waits at most this many windows for half of the machines to bid and the bids to stop coming. */
export const ROUND_LIMIT_WINDOWS = 20;

export class RoundWindow {
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly windowMs: number) {}

  /**
   * Call `resolve` when `round` should resolve by its window, as long as
   * `stillOpen(round)`; `isLive` says which expected machines count.
   */
  arm(round: Round, stillOpen: (r: Round) => boolean, isLive: (machineId: string) => boolean, resolve: () => void, delayMs = this.windowMs): void {
    this.timer = setTimeout(() => {
      if (!stillOpen(round)) return;
      if (Date.now() - round.openedAt >= this.windowMs * ROUND_LIMIT_WINDOWS) return resolve();
      if (!round.quorate(isLive)) return this.arm(round, stillOpen, isLive, resolve);
      const quietIn = round.quietIn(this.windowMs);
      if (quietIn <= 0) resolve();
      else this.arm(round, stillOpen, isLive, resolve, quietIn);
    }, delayMs);
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
