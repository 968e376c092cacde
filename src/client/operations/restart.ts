/**
 * restart: stop then start, one unit at a time (fleet's runRestartUnit).
 *
 * Fixed from fleet: the stop step waits for "loaded" (fleet waited for
 * "launched" after asking for "loaded", so it could return before the agent
 * stopped anything), and global units are really restarted (fleet's code
 * path for them did nothing): desired state goes to loaded until systemd
 * reports the unit stopped on every machine running it, then back to launched
 * until it is active everywhere.
 */
import type { DesiredState, UnitStateView, UnitSummary } from '../types.js';
import { machineIdLegend } from '../legend.js';
import type { OperationContext } from './context.js';
import { lazyCreateUnits } from './create.js';
import { wrapError } from './errors.js';
import { findUnits } from './find.js';
import { budgetFor, withWaiter } from './waiter.js';
import { waitForUnitStates } from './waits.js';

async function setAndWait(ctx: OperationContext, name: string, state: DesiredState, attempts: number): Promise<void> {
  try {
    await ctx.client.setDesiredState(name, state);
  } catch (err) {
    throw wrapError(`Error setting target state for unit ${name}: `, err);
  }
  try {
    await waitForUnitStates(ctx, [name], state, attempts, 'restart');
  } catch (err) {
    throw wrapError('Error waiting for unit states, exit status: ', err);
  }
}

const RUNNING = new Set(['active', 'activating', 'deactivating', 'reloading']);

async function waitEverywhere(
  ctx: OperationContext,
  name: string,
  attempts: number,
  what: string,
  ok: (s: UnitStateView) => boolean,
): Promise<number> {
  let pending: string[] = [];
  return withWaiter(ctx, [name], (w) =>
    w.until(
      name,
      async () => {
        const states = await ctx.client.listUnitStates(name);
        pending = states.filter((s) => !ok(s)).map((s) => machineIdLegend(s.machineId, false));
        return pending.length === 0 ? states.length : undefined;
      },
      budgetFor(attempts, ctx.attemptMs),
      () => `timed out waiting for global unit ${name} to ${what} on ${pending.join(', ')}`,
    ),
  );
}

async function restartGlobal(ctx: OperationContext, u: UnitSummary, attempts: number): Promise<void> {
  if (u.desiredState !== 'launched') {
    ctx.sink.err(`Unable to restart global unit ${u.name} in state ${u.desiredState}`);
    return;
  }
  try {
    await ctx.client.setDesiredState(u.name, 'loaded');
    await waitEverywhere(ctx, u.name, attempts, 'stop', (s) => !RUNNING.has(s.active));
    await ctx.client.setDesiredState(u.name, 'launched');
    const machines = await waitEverywhere(ctx, u.name, attempts, 'start', (s) => s.active === 'active');
    ctx.sink.out(`Restarted global unit ${u.name} on ${machines} machine${machines === 1 ? '' : 's'}`);
  } catch (err) {
    throw wrapError('Error waiting for unit states, exit status: ', err);
  }
}

export async function restartUnits(ctx: OperationContext, args: readonly string[], opts: { blockAttempts?: number } = {}): Promise<void> {
  if (args.length === 0) {
    ctx.sink.err('No units given');
    return;
  }
  try {
    await lazyCreateUnits(ctx, args, { command: 'restart', blockAttempts: opts.blockAttempts ?? 0 });
  } catch (err) {
    throw wrapError('Error creating units: ', err);
  }
  const units = await findUnits(ctx, args);
  if (units.length === 0) {
    ctx.sink.err('Units not found in registry');
    return;
  }
  // A restart that does not wait cannot order its stop before its start.
  const attempts = Math.max(0, opts.blockAttempts ?? 0);
  for (const u of units) {
    if (u.global) {
      await restartGlobal(ctx, u, attempts);
      continue;
    }
    if (u.currentState === 'inactive') {
      ctx.sink.err(`Unable to restart unit ${u.name} in state inactive`);
      continue;
    }
    if (u.currentState === 'launched') await setAndWait(ctx, u.name, 'loaded', attempts);
    await setAndWait(ctx, u.name, 'launched', attempts);
  }
}
