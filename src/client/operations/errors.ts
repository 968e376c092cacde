/**
 * fleet reports failures of a command as "<what failed>: <why>". Store
 * outages keep their own message and exit code (3), and programming errors
 * are not dressed up as user errors, so the CLI can still call them internal.
 */
import { FlotillaError, StoreUnavailableError, UsageError, errorMessage } from '../../util/errors.js';

function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

export function wrapError(prefix: string, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (err instanceof FlotillaError || isSystemError(err)) {
    return new FlotillaError(`${prefix}${errorMessage(err)}`);
  }
  return err;
}

export function fail(message: string): FlotillaError {
  return new FlotillaError(message);
}

/**
 * A failure of what the command asked (a timeout, a unit that failed, bad
 * input), which callers report as the command's own failure. Not one: the
 * store being unreachable or refusing us, a usage error, a bug; those keep
 * their own message (and exit code).
 */
export function isCommandFailure(err: unknown): err is FlotillaError {
  return err instanceof FlotillaError && !(err instanceof StoreUnavailableError) && !(err instanceof UsageError);
}
