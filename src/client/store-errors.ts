/**
 * Turns the etcd client's connection failures into one StoreUnavailableError
 * with a one-line reason, so the CLI prints "cluster store unreachable at
 * URL: reason" and exits 3 instead of dumping a gRPC stack.
 */
import { isBrokenCircuitError } from 'cockatiel';
import {
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCNotImplementedError,
  GRPCUnavailableError,
  isRecoverableError,
} from 'etcd3';
import { ExitCode, FlotillaError, StoreUnavailableError } from '../util/errors.js';
import { diagnoseEndpoints, explainRefusal } from '../registry/store-diagnosis.js';
import { DAEMON_CREDENTIAL_NAMES, type StoreSecurity } from '../registry/store-security.js';

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
  override readonly exitCode: ExitCode = ExitCode.failure;
  constructor(message: string) {
    super(message);
    this.message = message;
  }
}

/** Is this a failure to talk to etcd at all (as opposed to a rejected request)? */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isBrokenCircuitError(err)) return true;
  return (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof GRPCNotImplementedError ||
    err instanceof GRPCCancelledError ||
    isRecoverableError(err)
  );
}

/** gRPC messages look like "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED ...". */
export function connectionReason(err: Error, requestTimeoutMs: number): string {
  if (isBrokenCircuitError(err)) return 'every endpoint failed repeatedly';
  if (err instanceof GRPCDeadlineExceededError) {
    return `no answer within ${requestTimeoutMs / 1000} s (see --request-timeout)`;
  }
  if (err instanceof GRPCNotImplementedError) {
    const status = /HTTP status code (\d+)/.exec(err.message);
    return `not an etcd v3 endpoint${status ? ` (HTTP ${status[1]})` : ''}`;
  }
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note.*)?$/s.exec(err.message);
  if (last?.[1]) return last[1].trim();
  return err.message.replace(/^\d+ [A-Z_]+: /, '').split('\n')[0] ?? err.message;
}

/** Rethrows connection failures as StoreUnreachableError; other errors pass through unchanged. */
export function mapStoreError(err: unknown, endpoints: readonly string[], requestTimeoutMs: number): unknown {
  if (err instanceof FlotillaError) return err;
  if (isConnectionError(err)) return new StoreUnreachableError(endpoints, connectionReason(err as Error, requestTimeoutMs));
  return err;
}

export interface StoreContext {
  endpoints: readonly string[];
  requestTimeoutMs: number;
  security?: StoreSecurity;
  /** The cluster's key prefix, named when etcd denies access to it. */
  prefix?: string;
}

/**
 * mapStoreError, plus the reasons only a look at the connection can give:
 * refusals become StoreRefusedError; a connection failure is probed for a
 * TLS cause (a wrong CA, a missing client certificate, the wrong scheme).
 */
export async function explainStoreError(err: unknown, ctx: StoreContext): Promise<unknown> {
  if (err instanceof StoreRefusedError) return err;
  const names = ctx.security?.names ?? DAEMON_CREDENTIAL_NAMES;
  const refusal = explainRefusal(err, ctx.security, names, ctx.prefix);
  if (refusal) return new StoreRefusedError(refusal);
  const mapped = mapStoreError(err, ctx.endpoints, ctx.requestTimeoutMs);
  if (!(mapped instanceof StoreUnreachableError)) return mapped;
  const tls = await diagnoseEndpoints(ctx.endpoints, ctx.security, names);
  if (tls) return new StoreRefusedError(tls);
  // gRPC's "Last error: null" (a TLS failure it did not describe) helps nobody.
  if (mapped.reason === 'null') return new StoreUnreachableError(ctx.endpoints, 'the TLS connection failed');
  return mapped;
}
