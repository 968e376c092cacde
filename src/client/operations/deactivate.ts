/**
 * stop and unload: lower the desired state of units that exist and wait for
 * the cluster to follow.
 *
 * fleet decided from the *current* state alone, which skipped a unit that was
 * still being started (current loaded, desired launched) and refused one that
 * was waiting for a machine; here the desired state decides and the current
 * state only lets already-settled units be skipped. Everything is checked
 * before anything is changed.
 */
import type { DesiredState, UnitSummary } from '../types.js';
import { type BlockOptions, blockAttempts } from './activate.js';
import type { OperationContext } from './context.js';
import { fail, isCommandFailure } from './errors.js';
import { unitsToChange } from './find.js';
import { goList } from './unit-args.js';
import { waitForUnitStates } from './waits.js';

interface Deactivation {
  verb: 'stop' | 'unload';
  goal: DesiredState;
  past: string;
  /** A reason to refuse the whole command, or undefined. */
  refuse(u: UnitSummary): string | undefined;
}

const settled = (u: UnitSummary, goal: DesiredState): boolean =>
  u.desiredState === goal && (u.global || u.currentState === goal);

async function deactivate(ctx: OperationContext, args: readonly string[], opts: BlockOptions, d: Deactivation): Promise<void> {
  const units = await unitsToChange(ctx, args);
  if (!units) return;
  for (const u of units) {
    const reason = d.refuse(u);
    if (reason) throw fail(reason);
  }
  const waiting: string[] = [];
  for (const u of units) {
    if (settled(u, d.goal)) {
      ctx.sink.debug(`Unit(${u.name}) already ${d.goal}, skipping.`);
      continue;
    }
    await ctx.client.setDesiredState(u.name, d.goal);
    if (u.global) ctx.sink.out(`Triggered global unit ${u.name} ${d.verb}`);
    else waiting.push(u.name);
  }
  try {
    await waitForUnitStates(ctx, waiting, d.goal, blockAttempts(opts), d.verb);
  } catch (err) {
    if (!isCommandFailure(err)) throw err;
    throw fail(`Failed to ${d.verb} units ${goList(waiting)}. err: ${err.message}`);
  }
  ctx.sink.err(`Successfully ${d.past} units ${goList(waiting)}.`);
}

export function stopUnits(ctx: OperationContext, args: readonly string[], opts: BlockOptions = {}): Promise<void> {
  return deactivate(ctx, args, opts, {
    verb: 'stop',
    goal: 'loaded',
    past: 'stopped',
    // Stopping would load a unit the user asked to unload.
    refuse: (u) => (u.desiredState === 'inactive' ? `Unable to stop unit ${u.name} in state inactive` : undefined),
  });
}

export function unloadUnits(ctx: OperationContext, args: readonly string[], opts: BlockOptions = {}): Promise<void> {
  return deactivate(ctx, args, opts, { verb: 'unload', goal: 'inactive', past: 'unloaded', refuse: () => undefined });
}
