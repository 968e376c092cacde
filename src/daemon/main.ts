#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * flotillad: `flotillad [--config FILE]` runs the agent and engine roles on
 * this host; `flotillad dev ...` runs a local multi-host cluster;
 * `flotillad bootstrap-config ...` renders a host bootstrap.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.js';
import { configPermissionWarnings } from './config-permissions.js';
import { Flotillad } from './flotillad.js';
import { VERSION } from '../util/version.js';
import { createLogger } from '../util/log.js';
import { FlotillaError, errorMessage, ExitCode } from '../util/errors.js';
import { devCommand } from '../dev/command.js';
import { bootstrapCommand } from './bootstrap-command.js';

function fail(err: unknown): never {
  if (err instanceof FlotillaError) {
    process.stderr.write(`flotillad: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`flotillad: internal error: ${errorMessage(err)}\n`);
  if (process.env.FLOTILLA_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
  process.exit(ExitCode.failure);
}

async function runDaemon(opts: { config?: string }): Promise<void> {
  const config = loadConfig(opts.config);
  const log = createLogger({ format: config.logFormat, level: config.verbosity > 0 ? 'debug' : 'info', name: 'flotillad' });
  if (opts.config !== undefined) {
    for (const warning of configPermissionWarnings(opts.config, readFileSync(opts.config, 'utf8'))) log.warn({ event: 'config-readable-by-others' }, warning);
  }
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
  await daemon.start();
}

const program = new Command('flotillad')
  .description('Flotilla daemon: agent and engine for one host')
  .version(`flotillad version ${VERSION}`, '-v, --version')
  .option('--config <file>', 'configuration file (INI key=value lines)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s.split('\n')[0] + '\n') })
  .action(async (opts: { config?: string }, cmd: Command) => {
    if (cmd.args.length > 0) throw new FlotillaError(`flotillad takes no arguments (got "${cmd.args[0]}"). Did you mean to run flotctl?`, ExitCode.usage);
    await runDaemon(opts);
  });
program.addCommand(devCommand());
program.addCommand(bootstrapCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : ExitCode.usage);
  fail(err);
});
