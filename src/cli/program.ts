/**
 * The flotctl command tree and its one error policy:
 *   usage errors (unknown command/flag, bad flag value)  -> one line, exit 2
 *   everything else                                      -> report.ts's reportFailure
 * Nothing prints a usage dump or a stack trace unless asked (--debug).
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../util/errors.js';
import { registerCat } from './commands/cat.js';
import { registerListMachines } from './commands/list-machines.js';
import { registerListUnitFiles } from './commands/list-unit-files.js';
import { registerListUnits } from './commands/list-units.js';
import { registerSetMetadata } from './commands/set-metadata.js';
import { registerUnitCommands } from './commands/units.js';
import { registerVersion } from './commands/version.js';
import { versionLine } from './version-line.js';
import { VERSION } from '../util/version.js';
import { registerWhy } from './commands/why.js';
import { registerEvents } from './commands/events.js';
import { registerFdForward } from './commands/fd-forward.js';
import { registerRemoteCommands } from './commands/remote.js';
import { registerSourceCommands } from './commands/sources.js';
import { registerSyncCommands } from './commands/sync.js';
import { GLOBAL_FLAGS, GLOBAL_VALUE_FLAGS, envName, resolveGlobals } from './globals.js';
import type { Output } from './output.js';
import { commandIndex, expandCommandPrefix } from './prefix.js';
import { debugRequested, reportFailure } from './report.js';
import { Session } from './session.js';

type Env = Readonly<Record<string, string | undefined>>;

const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function buildProgram(output: Output, env: Env): { program: Command; session: Session; current: () => string | undefined } {
  const program = new Command('flotctl');
  let current: string | undefined;
  const session = new Session(output, () =>
    resolveGlobals(program.opts(), (key) => program.getOptionValueSource(key) === 'cli', env),
  );
  // Settings first: commander copies them into each subcommand when it is created.
  program
    .description('flotctl: control the units and machines of a Flotilla cluster')
    .usage('[global options] <command> [command options] [arguments]')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.raw(s),
      writeErr: (s) => output.rawErr(s),
      outputError: () => undefined,
    })
    .showHelpAfterError(false)
    .version(versionLine(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for flotctl or one command')
    // fleetctl's usage had a VERSION section; shown with flotctl's own help only, not each command's.
    .addHelpText('after', `\nVersion:\n  ${VERSION}`);
  for (const f of GLOBAL_FLAGS) {
    const dflt = f.default !== undefined ? `, default ${f.default}` : '';
    program.addOption(new Option(f.flags, `${f.description} (env ${envName(f)}${dflt})`));
  }
  program.hook('preSubcommand', (_cmd, sub) => {
    current = sub.name();
  });
  registerUnitCommands(program, session);
  registerCat(program, session);
  registerListUnits(program, session);
  registerListUnitFiles(program, session);
  registerListMachines(program, session);
  registerWhy(program, session);
  registerEvents(program, session);
  registerRemoteCommands(program, session);
  registerSetMetadata(program, session);
  registerSyncCommands(program, session);
  registerSourceCommands(program, session);
  registerFdForward(program);
  registerVersion(program, session);
  return { program, session, current: () => current };
}

function commandNames(program: Command): string[] {
  return [...program.commands.map((c) => c.name()), 'help'];
}

function usageHint(command: string | undefined): string {
  return command ? `run 'flotctl help ${command}' for usage` : `run 'flotctl help' for usage`;
}

/** commander's "error: unknown option '--x'\n(Did you mean --y?)" as one line. */
export function usageLine(err: CommanderError, command: string | undefined): string {
  const [first = '', ...rest] = err.message.split('\n');
  let msg = first.replace(/^error: /, '').replace(/\.$/, '');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join(' '));
  if (suggestion) msg += ` (did you mean ${suggestion[1]}?)`;
  if (err.code === 'commander.unknownOption' && command) msg += ` for command '${command}'`;
  // `flotctl ssh m ls -l`: the remote command's options are not flotctl's.
  if (err.code === 'commander.unknownOption' && command === 'ssh') msg += ` (put -- before a remote command that has options)`;
  return `flotctl: ${msg}; ${usageHint(err.code === 'commander.unknownCommand' ? undefined : command)}`;
}

export function report(err: unknown, output: Output, command: string | undefined, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (COMMANDER_OK.has(err.code)) return ExitCode.ok;
    output.error(usageLine(err, command));
    return ExitCode.usage;
  }
  return reportFailure(err, output, debug);
}

/** Runs one flotctl invocation; returns the exit code. */
export async function runCli(argv: readonly string[], env: Env, output: Output): Promise<number> {
  const { program, session, current } = buildProgram(output, env);
  try {
    const args = expandCommandPrefix(argv, commandNames(program), GLOBAL_VALUE_FLAGS);
    // fleetctl with no command prints its usage and succeeds; commander would call that an error.
    const helpish = args.some((a) => ['-h', '--help', '-v', '--version'].includes(a));
    if (commandIndex(args, GLOBAL_VALUE_FLAGS) < 0 && !helpish && !args.some((a) => a.startsWith('-') && !isGlobalFlag(a))) {
      program.outputHelp();
      return ExitCode.ok;
    }
    await program.parseAsync([...args], { from: 'user' });
    return session.exitCode ?? ExitCode.ok;
  } catch (err) {
    return report(err, output, current(), debugRequested(argv, env, () => session.globals.debug));
  } finally {
    // The command's outcome is decided; a connection that fails to close changes nothing of it.
    await session.close().catch(() => undefined);
  }
}

function isGlobalFlag(arg: string): boolean {
  const name = arg.split('=')[0] as string;
  return GLOBAL_FLAGS.some((f) => f.flags.split(/[ ,]+/).includes(name));
}
