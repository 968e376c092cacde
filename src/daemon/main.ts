#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * flotillad: `flotillad [--config FILE]` runs the agent and engine roles on
 * this host; `flotillad dev ...` runs a local multi-host cluster;
 * `flotillad bootstrap-config ...` renders a host bootstrap.
 */
import { Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE, readConfig } from './config.js';
import { Flotillad } from './flotillad.js';
import { VERSION } from '../util/version.js';
import { createLogger } from '../util/log.js';
import { FlotillaError, UsageError, errorMessage, ExitCode } from '../util/errors.js';
import { exitCodeOf } from '../util/exit-codes.js';
import { isDaemonRun } from './daemon-args.js';
import { quietTlsServernameWarning } from '../util/warnings.js';
import type { Logger } from '../util/log.js';

function fail(err: unknown): never {
  if (err instanceof FlotillaError) {
    process.stderr.write(`flotillad: ${err.message}\n`);
    process.exit(exitCodeOf(err));
  }
  process.stderr.write(`flotillad: internal error: ${errorMessage(err)}\n`);
  if (process.env.FLOTILLA_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
  process.exit(ExitCode.failure);
}

/** fleet's rule: --config, else the default file if it exists, else none. */
function configPath(given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/**
 * SIGHUP: read the config again and apply what can change without touching
 * units (reload.ts). A config that no longer loads changes nothing. Reloads
 * run one at a time; one asked for during start-up runs once started.
 */
function reloader(path: string | undefined, daemon: Flotillad, started: Promise<void>, log: Logger): () => void {
  let chain: Promise<unknown> = started;
  return () => {
    chain = chain.then(async () => {
      let loaded;
      try {
        loaded = readConfig(path);
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'SIGHUP: the config does not load; keeping the running one');
        return;
      }
      for (const w of loaded.warnings) log.warn(w);
      const diff = await daemon.reload(loaded.config);
      const changes = { applied: diff.applied, needRestart: diff.needRestart };
      if (diff.applied.length === 0 && diff.needRestart.length === 0) log.info('SIGHUP: configuration unchanged');
      else if (diff.needRestart.length === 0) log.info(changes, 'SIGHUP: configuration reloaded');
      else log.warn(changes, 'SIGHUP: configuration reloaded; the needRestart settings changed but take effect only when flotillad restarts');
    }).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'SIGHUP: reload failed'));
  };
}

async function runDaemon(opts: { config?: string }): Promise<void> {
  quietTlsServernameWarning();
  const path = configPath(opts.config);
  const { config, warnings } = readConfig(path);
  const log = createLogger({ format: config.logFormat, level: config.verbosity > 0 ? 'debug' : 'info', name: 'flotillad' });
  for (const w of warnings) log.warn(w);
  const daemon = new Flotillad(config, log, (reason) => {
    log.fatal({ reason }, 'flotillad cannot continue');
    process.exit(ExitCode.failure);
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    daemon
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err: errorMessage(err) }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const started = daemon.start();
  // The reloader only waits for start-up to settle; a failed start is reported (and exits) through `started` below.
  process.on('SIGHUP', reloader(path, daemon, started.catch(() => undefined), log));
  await started;
}

const program = new Command('flotillad')
  .description('Flotilla daemon: agent and engine for one host')
  .version(`flotillad version ${VERSION}`, '-v, --version')
  .option('--config <file>', 'configuration file (INI key=value lines)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n')[0] + '\n') })
  .action(async (opts: { config?: string }, cmd: Command) => {
    if (cmd.args.length > 0) throw new UsageError(`flotillad takes no arguments (got "${cmd.args[0]}"). Did you mean to run flotctl?`);
    await runDaemon(opts);
  });

async function main(): Promise<void> {
  // The daemon never runs a subcommand: it does not load them (see daemon-args.ts).
  if (!isDaemonRun(process.argv.slice(2))) {
    const [{ devCommand }, { bootstrapCommand }] = await Promise.all([import('../dev/command.js'), import('./bootstrap-command.js')]);
    program.addCommand(devCommand());
    program.addCommand(bootstrapCommand());
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : ExitCode.usage);
  fail(err);
});
