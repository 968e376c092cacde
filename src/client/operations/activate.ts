/**
 * load and start: create units as needed, raise their desired state, and
 * (unless --no-block) wait for the cluster to follow.
 */
import { parseUnitName } from '../../unit/index.js';
import type { DesiredState, UnitSummary } from '../types.js';
import { mapLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { fail, wrapError } from './errors.js';
import { type CreateResult, createUnits } from './create.js';
import { unitNames } from './unit-args.js';
import { withWaiter } from './waiter.js';
import { waitForSystemdActive, waitForUnitStates } from './waits.js';

export interface BlockOptions {
  noBlock?: boolean;
  /** fleet's --block-attempts: 0 = wait forever, N = N attempts of 2 s. */
  blockAttempts?: number;
}

export interface ActivateOptions extends BlockOptions {
  replace?: boolean;
}

/** fleet's getBlockAttempts: -1 = do not wait, 0 = forever, N = N attempts. */
export function blockAttempts(opts: BlockOptions): number {
  if (opts.noBlock) return -1;
  return Math.max(0, opts.blockAttempts ?? 0);
}

const READ_CONCURRENCY = 16;

/**
 * fleet's setTargetStateOfUnits: units already at `state` are left alone.
 * Every unit is looked up before any is changed, so a missing one aborts
 * without side effects. Returns the units whose desired state was changed.
 */
export async function setTargetStateOfUnits(ctx: OperationContext, names: readonly string[], state: DesiredState): Promise<UnitSummary[]> {
  const units = await mapLimit(names, READ_CONCURRENCY, (name) => ctx.client.getUnit(name));
  const triggered: UnitSummary[] = [];
  names.forEach((name, i) => {
    const u = units[i];
    if (!u) throw fail(`unable to find unit ${name}`);
    if (u.desiredState !== state) triggered.push(u);
  });
  for (const u of triggered) {
    if (!(await ctx.client.setDesiredState(u.name, state))) throw fail(`unable to find unit ${u.name}`);
  }
  return triggered;
}

function isTemplate(name: string): boolean {
  return name.includes('@') && name.includes('.') && parseUnitName(name).isTemplate;
}

async function activate(
  ctx: OperationContext,
  args: readonly string[],
  opts: ActivateOptions,
  command: 'load' | 'start',
): Promise<void> {
  if (args.length === 0) {
    ctx.sink.err('No units given');
    return;
  }
  const attempts = blockAttempts(opts);
  const failed = command === 'load' ? 'Error loading units: ' : 'Error starting units: ';
  // Checked before anything is submitted: `start foo@.service` must not leave a template behind.
  const template = unitNames(args).find(isTemplate);
  if (template !== undefined) {
    const example = template.replace('@.', '@1.');
    throw fail(`${failed}cannot activate template ${JSON.stringify(template)}: ${command} an instance of it instead, e.g. ${example}`);
  }
  const goal: DesiredState = command === 'load' ? 'loaded' : 'launched';
  let created: CreateResult;
  try {
    created = await createUnits(ctx, args, { command, replace: opts.replace ?? false, blockAttempts: opts.blockAttempts ?? 0, goal });
  } catch (err) {
    throw wrapError('Error creating units: ', err);
  }
  // A unit created at the goal is triggered by its creation: it is neither read nor written again.
  const atGoal = new Map(created.created.filter((c) => c.desired === goal).map((c) => [c.name, c]));
  const names = unitNames(args);
  let changed: UnitSummary[];
  try {
    changed = await setTargetStateOfUnits(ctx, names.filter((n) => !atGoal.has(n)), goal);
  } catch (err) {
    throw wrapError(failed, err);
  }
  const byName = new Map<string, { name: string; global: boolean }>([...atGoal, ...changed.map((u) => [u.name, u] as const)]);
  const waiting: string[] = [];
  for (const name of names) {
    const u = byName.get(name);
    if (!u) continue;
    if (u.global) ctx.sink.out(`Triggered global unit ${u.name} ${command}`);
    else waiting.push(u.name);
  }
  if (attempts < 0 || waiting.length === 0) {
    await waitForUnitStates(ctx, waiting, goal, attempts, command);
    return;
  }
  // One change feed for both waits, from the first write on: nothing between the writes and the waits is missed.
  await withWaiter(
    ctx,
    waiting,
    async (waiter) => {
      try {
        await waitForUnitStates(ctx, waiting, goal, attempts, command, { waiter });
      } catch (err) {
        throw wrapError('Error waiting for unit states, exit status: ', err);
      }
      if (command !== 'start') return;
      try {
        await waitForSystemdActive(ctx, waiting, attempts, { waiter });
      } catch (err) {
        throw wrapError('Error waiting for systemd unit states, err: ', err);
      }
    },
    created.firstWrite,
  );
}

export function loadUnits(ctx: OperationContext, args: readonly string[], opts: ActivateOptions = {}): Promise<void> {
  return activate(ctx, args, opts, 'load');
}

export function startUnits(ctx: OperationContext, args: readonly string[], opts: ActivateOptions = {}): Promise<void> {
  return activate(ctx, args, opts, 'start');
}
