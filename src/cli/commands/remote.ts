/** status, journal and ssh: commands that run on the machine of a unit (fleetctl's, over SSH). */
import { type Command, InvalidArgumentError, Option } from 'commander';
/** ssh2 and the remote operations are loaded when a remote command runs, never at flotctl start. */
const remote = () => import('../../client/operations/remote.js');
import type { RemoteIO } from '../../client/remote/ssh.js';
import type { Session } from '../session.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('give a TCP port from 1 to 65535');
  return n;
}

function parseLines(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('give a whole number of lines, 0 or more');
  return Number(value);
}

const portHelp = 'SSH port of the machines (default: the port each machine advertises, else 22)';

function sshPort(opts: Record<string, unknown>): { sshPort?: number } {
  return typeof opts.sshPort === 'number' ? { sshPort: opts.sshPort } : {};
}

/** The remote command's own output as it comes (as ssh prints it); flotctl's lines among it through the output layer. */
function writers(session: Session): Pick<RemoteIO, 'stdout' | 'stderr' | 'own'> {
  return {
    stdout: (t) => session.output.raw(t),
    stderr: (t) => session.output.rawErr(t),
    own: { out: (l) => session.output.out(l), err: (l) => session.output.err(l) },
  };
}

export function registerRemoteCommands(program: Command, session: Session): void {
  program
    .command('status')
    .description("show systemd's status of units on the machines running them (every machine for a global unit)")
    .argument('[units...]', 'unit names')
    .option('--ssh-port <port>', portHelp, parsePort)
    .action(async (units: string[], opts: Record<string, unknown>) => {
      const runner = await session.remoteRunner({ ...sshPort(opts), forwardAgent: false });
      session.exitCode = await (await remote()).statusUnits(await session.operations(), runner, { ...writers(session) }, units);
    });

  program
    .command('journal')
    .description("print a unit's journal from the machine running it")
    .argument('[unit...]', 'unit name')
    .option('-n, --lines <n>', 'number of recent lines to print', parseLines, 10)
    .option('-f, --follow', 'keep printing new lines as they arrive')
    // fleetctl only understood the long form "--f"; keep it working.
    .addOption(new Option('--f').hideHelp())
    .option('--output <mode>', "journalctl's output mode (short, json, cat, ...)", 'short')
    .option('--sudo', 'run journalctl with sudo')
    .option('--ssh-port <port>', portHelp, parsePort)
    .action(async (unit: string[], opts: Record<string, unknown>) => {
      const runner = await session.remoteRunner({ ...sshPort(opts), forwardAgent: false });
      session.exitCode = await (await remote()).journalUnit(await session.operations(), runner, { ...writers(session) }, unit, {
        lines: typeof opts.lines === 'number' ? opts.lines : 10,
        follow: opts.follow === true || opts.f === true,
        output: typeof opts.output === 'string' ? opts.output : 'short',
        sudo: opts.sudo === true,
      });
    });

  program
    .command('ssh')
    .description('open a shell, or run a command, on a machine or on the machine running a unit')
    .argument('[target]', 'machine id (or a unique prefix) or unit name')
    .argument('[command...]', 'command to run there; put -- before it if it has options')
    .option('-m, --machine', 'the target is a machine id')
    .option('-u, --unit', 'the target is a unit')
    .option('-A, --forward-agent', 'forward the local ssh-agent to the machine')
    .addOption(new Option('--A').hideHelp())
    .option('--ssh-port <port>', portHelp, parsePort)
    .action(async (target: string | undefined, command: string[], opts: Record<string, unknown>) => {
      const runner = await session.remoteRunner({ ...sshPort(opts), forwardAgent: opts.forwardAgent === true || opts.A === true });
      const args = target === undefined ? [] : [target, ...command];
      const { io, release } = session.terminal.remoteIO(writers(session), { stdin: true, shell: command.length === 0 });
      try {
        session.exitCode = await (await remote()).sshTo(await session.operations(), runner, io, args, {
          machine: opts.machine === true,
          unit: opts.unit === true,
        });
      } finally {
        release();
      }
    });
}
