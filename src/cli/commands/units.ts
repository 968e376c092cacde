/** The commands that change units: submit, load, start, stop, unload, destroy, restart. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BlockOptions } from '../../client/operations/index.js';
import { DeprecatedFeatureError } from '../../util/errors.js';
import type { Session } from '../session.js';

export const SIGN_DEPRECATED = 'WARNING: The signed/verified units feature is DEPRECATED and cannot be used.';

function parseAttempts(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('give a whole number of attempts (0 = no limit)');
  return Number(value);
}

/** commander hands options over untyped; read them here, once. */
function flag(opts: Record<string, unknown>, key: string): boolean {
  return opts[key] === true;
}

function block(opts: Record<string, unknown>): BlockOptions {
  const attempts = opts.blockAttempts;
  return { noBlock: opts.block === false, blockAttempts: typeof attempts === 'number' ? attempts : 0 };
}

function rejectSign(opts: Record<string, unknown>): void {
  if (flag(opts, 'sign')) throw new DeprecatedFeatureError(SIGN_DEPRECATED);
}

function withBlocking(cmd: Command, verb: string): Command {
  return cmd
    .option('--no-block', `do not wait until the units are ${verb}; always the case for global units`)
    .option('--block-attempts <n>', `wait for at most N attempts of 2 s each (0 = no limit); does not apply to global units`, parseAttempts);
}

/** Loaded when a command runs, not at every flotctl start (help and version never need it). */
const operations = () => import('../../client/operations/index.js');

const replaceHelp = 'replace units already in the cluster with the local versions';
const signOption = (): Option => new Option('--sign', 'deprecated').hideHelp();

export function registerUnitCommands(program: Command, session: Session): void {
  program
    .command('submit')
    .description('upload one or more units to the cluster without starting them')
    .argument('[units...]', 'unit files or names')
    .option('--replace', replaceHelp)
    .addOption(signOption())
    .action(async (units: string[], opts: Record<string, unknown>) => {
      rejectSign(opts);
      await (await operations()).submitUnits(await session.operations(), units, { replace: flag(opts, 'replace') });
    });

  withBlocking(
    program
      .command('load')
      .description('schedule one or more units in the cluster, first submitting them if necessary')
      .argument('[units...]', 'unit files or names')
      .option('--replace', replaceHelp)
      .addOption(signOption()),
    'loaded',
  ).action(async (units: string[], opts: Record<string, unknown>) => {
    rejectSign(opts);
    await (await operations()).loadUnits(await session.operations(), units, { ...block(opts), replace: flag(opts, 'replace') });
  });

  withBlocking(
    program
      .command('start')
      .description('start one or more units in the cluster, first submitting and loading them if necessary')
      .argument('[units...]', 'unit files or names')
      .option('--replace', replaceHelp)
      .addOption(signOption()),
    'running',
  ).action(async (units: string[], opts: Record<string, unknown>) => {
    rejectSign(opts);
    await (await operations()).startUnits(await session.operations(), units, { ...block(opts), replace: flag(opts, 'replace') });
  });

  withBlocking(
    program.command('stop').description('stop one or more units in the cluster').argument('[units...]', 'unit names'),
    'stopped',
  ).action(async (units: string[], opts: Record<string, unknown>) => {
    await (await operations()).stopUnits(await session.operations(), units, block(opts));
  });

  withBlocking(
    program.command('unload').description('unschedule one or more units in the cluster').argument('[units...]', 'unit names'),
    'unloaded',
  ).action(async (units: string[], opts: Record<string, unknown>) => {
    await (await operations()).unloadUnits(await session.operations(), units, block(opts));
  });

  withBlocking(
    program.command('destroy').description('destroy one or more units in the cluster').argument('[units...]', 'unit names'),
    'unloaded from every machine',
  ).action(async (units: string[], opts: Record<string, unknown>) => {
    await (await operations()).destroyUnits(await session.operations(), units, block(opts));
  });

  program
    .command('restart')
    .description('restart one or more units in the cluster (stop, then start)')
    .argument('[units...]', 'unit files or names')
    .option('--block-attempts <n>', 'wait for at most N attempts of 2 s each per step (0 = no limit)', parseAttempts)
    .action(async (units: string[], opts: Record<string, unknown>) => {
      await (await operations()).restartUnits(await session.operations(), units, { blockAttempts: block(opts).blockAttempts ?? 0 });
    });
}
