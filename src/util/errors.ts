/**
 * Typed errors. Every error a user can provoke is one of these classes, with
 * a one-line message that names the thing and the fix. Anything else
 * reaching the top level is a bug and is reported as such.
 *
 * Errors carry no exit codes: the edges (flotctl, flotillad's main, the dev
 * and bootstrap commands) map them to one by class, in exitCodeOf
 * (src/util/exit-codes.ts).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unavailable: 3,
  remote: 255,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class FlotillaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input from a user (unit file, flag, config, API body) is not acceptable. */
export class InvalidInputError extends FlotillaError {}

/** Command-line usage error: unknown flag or command, wrong argument count. */
export class UsageError extends FlotillaError {}

/** A feature fleet dropped (signed units): a usage error whose message carries its own lead, as fleet printed it. */
export class DeprecatedFeatureError extends UsageError {}

/** SSH itself failed (not the remote command): exit 255, as OpenSSH and fleetctl. */
export class SshError extends FlotillaError {}

/** The cluster store (etcd) could not be reached or did not answer in time; or, as StoreRefusedError, refused us. */
export class StoreUnavailableError extends FlotillaError {
  constructor(detail: string) {
    super(`cluster store unreachable: ${detail}`);
  }
}

/** The store could not be reached at all: names the endpoints first, then why. */
export class StoreUnreachableError extends StoreUnavailableError {
  constructor(
    readonly endpoints: readonly string[],
    readonly reason: string,
  ) {
    super(reason);
    // The base class words it "cluster store unreachable: x"; users need the URL first.
    this.message = `cluster store unreachable at ${endpoints.join(',')}: ${reason}`;
  }
}

/**
 * etcd answered, or would answer, but not to us: its certificate is not
 * trusted, it wants a client certificate, the password is wrong. A setting
 * to fix, not an outage: exit 1, one line naming the setting.
 */
export class StoreRefusedError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.message = message;
  }
}

/** A conditional (fenced) write lost: another writer or a newer engine won. */
export class FencedWriteError extends FlotillaError {
  constructor(what: string) {
    super(`write rejected by fencing condition: ${what}`);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
