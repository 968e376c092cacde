/**
 * The one mapping from an error to flotctl's exit status, at the CLI edge:
 * the client and the store throw typed errors and leave the number to the
 * command line. 1: the command failed (bad input, a timeout, a store that
 * refuses our credentials: a setting to fix); 2: usage; 3: the store is
 * unreachable; 255: ssh itself failed (the remote commands).
 */
import { ExitCode, FlotillaError, StoreRefusedError, StoreUnavailableError, UsageError } from '../util/errors.js';

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.usage;
  // A refusal is a setting to fix, not an outage, though it is a store error too.
  if (err instanceof StoreRefusedError) return ExitCode.failure;
  if (err instanceof StoreUnavailableError) return ExitCode.unavailable;
  // Errors still constructed with an exit code (ssh's 255, usage-level messages of some commands) say it themselves.
  if (err instanceof FlotillaError) return err.exitCode;
  return ExitCode.failure;
}
