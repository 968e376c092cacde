/**
 * Waiting for units to change, driven by the client's change feed instead of
 * fleet's fixed 250 ms poll: a check re-runs as soon as something about the
 * unit changes, plus a slow safety re-read in case a notification is lost.
 *
 * Budgets follow fleet's --block-attempts: 0 attempts = wait forever,
 * N > 0 = N attempts of `attemptMs` each, and a negative number = do not wait
 * (callers print "Triggered ..." instead of creating a waiter).
 */
import { FlotillaError } from '../../util/errors.js';
import type { Unsubscribe, WriteMark } from '../types.js';
import type { OperationContext } from './context.js';

/** undefined = no deadline. */
export type BudgetMs = number | undefined;

export function budgetFor(attempts: number, attemptMs: number): BudgetMs {
  return attempts > 0 ? attempts * attemptMs : undefined;
}

export class WaitTimeoutError extends FlotillaError {}

export class UnitWaiter {
  private readonly dirty = new Set<string>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private unsubscribe: Unsubscribe | undefined;

  private constructor(private readonly ctx: OperationContext) {}

  /**
   * Subscribes before returning, so checks made afterwards cannot miss a
   * change; with `after`, changes since that write count too.
   */
  static async open(ctx: OperationContext, units: readonly string[], after?: WriteMark): Promise<UnitWaiter> {
    const waiter = new UnitWaiter(ctx);
    waiter.unsubscribe = await ctx.client.watchUnits(units, (unit) => waiter.changed(unit), after);
    return waiter;
  }

  private changed(unit: string): void {
    this.dirty.add(unit);
    const wakers = this.wakers.get(unit);
    if (!wakers) return;
    this.wakers.delete(unit);
    for (const wake of wakers) wake();
  }

  /** Resolves on the next change of `unit` (or one that arrived since the last check), or after ms. */
  private nextChange(unit: string, ms: number): Promise<void> {
    if (this.dirty.has(unit)) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.wakers.get(unit);
      if (!set) this.wakers.set(unit, (set = new Set()));
      const wakers = set;
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });
  }

  /**
   * Runs `check` until it returns a value. On timeout throws
   * WaitTimeoutError(timeoutMessage()); errors from check propagate.
   */
  async until<T>(
    unit: string,
    check: () => Promise<T | undefined>,
    budgetMs: BudgetMs,
    timeoutMessage: () => string,
  ): Promise<T> {
    const deadline = budgetMs === undefined ? Infinity : Date.now() + budgetMs;
    for (;;) {
      // Cleared before reading: a change landing during the read triggers another read.
      this.dirty.delete(unit);
      const value = await check();
      if (value !== undefined) return value;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new WaitTimeoutError(timeoutMessage());
      await this.nextChange(unit, Math.min(remaining, this.ctx.recheckMs));
    }
  }

  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    for (const unit of [...this.wakers.keys()]) this.changed(unit);
    if (unsubscribe) await unsubscribe();
  }
}

/** Opens a waiter for `units`, runs `fn`, and always closes it. */
export async function withWaiter<T>(ctx: OperationContext, units: readonly string[], fn: (w: UnitWaiter) => Promise<T>, after?: WriteMark): Promise<T> {
  const waiter = await UnitWaiter.open(ctx, units, after);
  try {
    return await fn(waiter);
  } finally {
    await waiter.close();
  }
}
