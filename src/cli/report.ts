/**
 * How a failed command is reported, apart from commander's own errors
 * (program.ts's report handles those, then hands everything else here), so
 * the fast list path (list-fast.ts) reports exactly as the full CLI does
 * without loading commander:
 *   UsageError                           -> "flotctl: <message>", exit 2 (a DeprecatedFeatureError: its own line)
 *   cluster store unreachable            -> "flotctl: <message>", exit 3
 *   fleet-style failures (FlotillaError) -> their message, the exit code of their class (exitCodeOf)
 *   anything else is a bug               -> "flotctl: internal error: ...", exit 1
 */
import { DeprecatedFeatureError, ExitCode, FlotillaError, StoreUnavailableError, UsageError, errorMessage } from '../util/errors.js';
import { exitCodeOf } from '../util/exit-codes.js';
import { isTrueWord } from './globals.js';
import type { Output } from './output.js';

type Env = Readonly<Record<string, string | undefined>>;

export function reportFailure(err: unknown, output: Output, debug: boolean): number {
  if (err instanceof UsageError) {
    output.error(err instanceof DeprecatedFeatureError ? err.message : `flotctl: ${err.message}`);
    return ExitCode.usage;
  }
  if (err instanceof StoreUnavailableError) {
    output.error(`flotctl: ${err.message}`);
    return exitCodeOf(err);
  }
  if (err instanceof FlotillaError) {
    output.error(err.message);
    return exitCodeOf(err);
  }
  output.error(`flotctl: internal error: ${errorMessage(err)}`);
  if (debug && err instanceof Error && err.stack) output.rawErr(`${err.stack}\n`);
  return ExitCode.failure;
}

/** --debug, for a failure before the global options could be resolved (or when they are what failed). */
export function debugRequested(argv: readonly string[], env: Env, resolved: () => boolean): boolean {
  try {
    return resolved();
  } catch {
    // the globals themselves were invalid; guess from argv and the environment
    return argv.includes('--debug') || isTrueWord(env.FLOTCTL_DEBUG);
  }
}
