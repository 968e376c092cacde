/**
 * load and start: create units as needed, raise their desired state, and
 * (unless --no-block) wait for the cluster to follow.
 */
import { parseUnitName } from '../../unit/index.js';
import type { DesiredState, UnitSummary } from '../types.js';
import { mapLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { fail, wrapError } from './errors.js';
import { lazyCreateUnits } from './create.js';
import { unitNames } from './unit-args.js';
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
  try {
    await lazyCreateUnits(ctx, args, { command, replace: opts.replace ?? false, blockAttempts: opts.blockAttempts ?? 0 });
  } catch (err) {
    throw wrapError('Error creating units: ', err);
  }
  const goal: DesiredState = command === 'load' ? 'loaded' : 'launched';
  let triggered: UnitSummary[];
  try {
    triggered = await setTargetStateOfUnits(ctx, unitNames(args), goal);
  } catch (err) {
    throw wrapError(failed, err);
  }
  const waiting: string[] = [];
  for (const u of triggered) {
    if (u.global) ctx.sink.out(`Triggered global unit ${u.name} ${command}`);
    else waiting.push(u.name);
  }
  try {
    await waitForUnitStates(ctx, waiting, goal, attempts, command);
  } catch (err) {
    throw wrapError('Error waiting for unit states, exit status: ', err);
  }
  if (command !== 'start') return;
  try {
    await waitForSystemdActive(ctx, waiting, attempts);
  } catch (err) {
    throw wrapError('Error waiting for systemd unit states, err: ', err);
  }
}

export function loadUnits(ctx: OperationContext, args: readonly string[], opts: ActivateOptions = {}): Promise<void> {
  return activate(ctx, args, opts, 'load');
}

export function startUnits(ctx: OperationContext, args: readonly string[], opts: ActivateOptions = {}): Promise<void> {
  return activate(ctx, args, opts, 'start');
}
