/**
 * The one mapping from an error to an exit status, used at the edges only
 * (flotctl, flotillad's main, the dev and bootstrap commands, and the exit
 * status flotctl ssh reports for a machine it could not reach): the library
 * throws typed errors and leaves the number to whoever exits. 1: the command
 * failed (bad input, a timeout, a store that refuses our credentials: a
 * setting to fix); 2: usage; 3: the store is unreachable; 255: ssh itself
 * failed, as OpenSSH and fleetctl.
 */
import { ExitCode, SshError, StoreRefusedError, StoreUnavailableError, UsageError } from './errors.js';

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.usage;
  if (err instanceof SshError) return ExitCode.remote;
  // A refusal is a setting to fix, not an outage, though it is a store error too.
  if (err instanceof StoreRefusedError) return ExitCode.failure;
  if (err instanceof StoreUnavailableError) return ExitCode.unavailable;
  return ExitCode.failure;
}
