/**
 * status, journal and ssh: commands run on the machine that runs a unit.
 * Messages and exit codes follow fleetctl's (reference §1.6); the exit
 * status is the remote command's. Fixed from fleet: status of a global unit
 * runs on every machine running it (fleet did nothing and succeeded).
 */
import { mangleUnitName } from '../../unit/index.js';
import { FlotillaError, UsageError, errorMessage } from '../../util/errors.js';
import { exitCodeOf } from '../../util/exit-codes.js';
import { machineFullLegend } from '../legend.js';
import { type JournalOptions, journalctlCommand, systemctlCommand } from '../remote/commands.js';
import type { RemoteIO } from '../remote/ssh.js';
import type { MachineSummary, UnitSummary } from '../types.js';
import { settleLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { unitNames } from './unit-args.js';

/** What runs a command on a machine (RemoteRunner over SSH; tests may record instead). */
export interface CommandRunner {
  run(machine: MachineSummary, command: string | undefined, io: RemoteIO): Promise<number>;
}

/** Machines checked at once for a global unit; output is still printed in machine order. */
const GLOBAL_FAN_OUT = 8;

async function existing(ctx: OperationContext, name: string): Promise<UnitSummary> {
  const unit = await ctx.client.getUnit(name);
  if (!unit) throw new FlotillaError(`Unit ${name} does not exist.`);
  return unit;
}

async function machineOf(ctx: OperationContext, unit: UnitSummary, notRunning: string): Promise<MachineSummary> {
  if (!unit.machineId) {
    throw new FlotillaError(unit.unplaced ? `Unit ${unit.name} is not placed on any machine: run 'flotctl why ${unit.name}' to see why` : notRunning);
  }
  const machine = await ctx.machines.get(unit.machineId);
  if (!machine) throw new FlotillaError(`Machine ${unit.machineId} of unit ${unit.name} is not registered: it may be leaving the cluster; try again shortly`);
  if (!machine.publicIP) throw new FlotillaError(noAddress(machine));
  return machine;
}

/** Machines whose agents report the global unit, in id order. */
async function machinesRunning(ctx: OperationContext, unit: UnitSummary): Promise<MachineSummary[]> {
  const ids = [...new Set((await ctx.client.listUnitStates(unit.name)).map((s) => s.machineId))].sort();
  const found: MachineSummary[] = [];
  for (const id of ids) {
    const m = await ctx.machines.get(id);
    if (m) found.push(m);
  }
  if (found.length === 0) throw new FlotillaError(`Global unit ${unit.name} does not run on any machine: run 'flotctl why ${unit.name}' to see why`);
  return found;
}

/**
 * Run on every machine at once, print each machine's output as one block, in
 * order. A machine that cannot be reached gets its one-line error in its
 * block; the others still answer. Returns the first non-zero status.
 */
async function onEvery(runner: CommandRunner, machines: readonly MachineSummary[], command: (m: MachineSummary) => string, io: RemoteIO): Promise<number> {
  const results = await settleLimit(machines, GLOBAL_FAN_OUT, async (m) => {
    const out: string[] = [];
    const err: string[] = [];
    if (!m.publicIP) throw new FlotillaError(noAddress(m));
    const code = await runner.run(m, command(m), { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  });
  const own = io.own ?? { out: (l: string) => io.stdout(`${l}\n`), err: (l: string) => io.stderr(`${l}\n`) };
  let first = 0;
  results.forEach((r, i) => {
    const m = machines[i] as MachineSummary;
    own.out(`${i > 0 ? '\n' : ''}Machine ${machineFullLegend(m, false)}:`);
    if (r.status === 'fulfilled') {
      io.stdout(r.value.out);
      if (r.value.err) io.stderr(r.value.err);
    } else {
      own.err(errorMessage(r.reason));
    }
    const code = r.status === 'fulfilled' ? r.value.code : exitCodeOf(r.reason);
    if (first === 0) first = code;
  });
  return first;
}

function noAddress(m: MachineSummary): string {
  return `Could not determine address of machine ${m.id}: set public_ip in its flotillad config`;
}

/** `systemctl status -l` for each unit; stops at the first non-zero status, which it returns. */
export async function statusUnits(ctx: OperationContext, runner: CommandRunner, io: RemoteIO, args: readonly string[]): Promise<number> {
  if (args.length === 0) throw new UsageError('status needs at least one unit: flotctl status UNIT...');
  const names = unitNames(args);
  for (const [i, name] of names.entries()) {
    const unit = await existing(ctx, name);
    if (i > 0) io.stdout('\n');
    // `--`: unit names may start with '-', which systemctl would read as an option.
    const status = (m: MachineSummary): string => systemctlCommand(m.systemdScope, ['status', '-l', '--', name]);
    let code: number;
    if (unit.global) {
      code = await onEvery(runner, await machinesRunning(ctx, unit), status, io);
    } else {
      if (unit.currentState === 'inactive' && !unit.unplaced) throw new FlotillaError(`Unit ${name} does not appear to be loaded.`);
      const machine = await machineOf(ctx, unit, `Unit ${name} does not appear to be loaded.`);
      code = await runner.run(machine, status(machine), io);
    }
    if (code !== 0) return code;
  }
  return 0;
}

export async function journalUnit(ctx: OperationContext, runner: CommandRunner, io: RemoteIO, args: readonly string[], opts: JournalOptions): Promise<number> {
  if (args.length !== 1) throw new FlotillaError('One unit file must be provided.');
  if (!Number.isInteger(opts.lines) || opts.lines < 0) throw new UsageError(`invalid --lines ${opts.lines}: give a whole number of lines, 0 or more`);
  const name = mangleUnitName(args[0] as string);
  const unit = await existing(ctx, name);
  if (unit.global) {
    throw new FlotillaError(
      `Unable to retrieve journal of global unit ${name}: run 'flotctl ssh MACHINE -- journalctl --unit ${name}' ` +
        `(--user-unit where flotillad drives a user manager) for one of its machines (flotctl list-units shows them).`,
    );
  }
  if (unit.currentState === 'inactive' && !unit.unplaced) throw new FlotillaError(`Unit ${name} does not appear to be running.`);
  const machine = await machineOf(ctx, unit, `Unit ${name} does not appear to be running.`);
  return runner.run(machine, journalctlCommand(machine.systemdScope, name, opts), io);
}

export interface SshTargetOptions {
  /** -m: the argument is a machine id (prefix) only. */
  machine: boolean;
  /** -u: the argument is a unit only. */
  unit: boolean;
}

function proceed(why: string): FlotillaError {
  return new FlotillaError(`Unable to proceed: ${why}`);
}

/** fleetctl ssh's lookup: a machine id prefix, or the machine of a unit. */
export async function sshTarget(ctx: OperationContext, target: string, opts: SshTargetOptions): Promise<MachineSummary> {
  if (opts.machine && opts.unit) throw proceed('--machine and --unit exclude each other: give one');
  const machines = opts.unit ? [] : (await ctx.client.listMachines()).filter((m) => m.id.startsWith(target.toLowerCase()));
  if (machines.length > 1) throw proceed(`found more than one machine starting with ${target}: give more of the id`);
  const unit = opts.machine ? undefined : await ctx.client.getUnit(mangleUnitName(target));
  const machine = machines[0];
  if (machine && unit) {
    throw proceed(`ambiguous argument, both machine and unit found for \`${target}\`; use -m (--machine) or -u (--unit) to say which`);
  }
  if (machine) {
    if (!machine.publicIP) throw new FlotillaError(noAddress(machine));
    return machine;
  }
  if (!unit) throw proceed(`could not find a matching ${opts.machine ? 'machine' : opts.unit ? 'unit' : 'unit or machine'} for ${target}`);
  if (unit.global) throw proceed(`${unit.name} is a global unit, which runs on many machines: name one of them (flotctl list-units shows them)`);
  return machineOf(ctx, unit, `Unable to proceed: unit ${unit.name} does not run on any machine`);
}

/** `flotctl ssh TARGET [COMMAND...]`: the command's exit status, or a shell's. */
export async function sshTo(ctx: OperationContext, runner: CommandRunner, io: RemoteIO, args: readonly string[], opts: SshTargetOptions): Promise<number> {
  const [target, ...command] = args;
  if (target === undefined) throw new UsageError('ssh needs a machine or a unit: flotctl ssh MACHINE|UNIT [COMMAND...]');
  const machine = await sshTarget(ctx, target, opts);
  // Like ssh(1): the words are joined and the remote shell parses them.
  return runner.run(machine, command.length > 0 ? command.join(' ') : undefined, io);
}
