/**
 * Keeps an etcd3 client authenticated through etcd member restarts, token
 * expiry and changes to etcd's users and roles.
 *
 * etcd3 1.1 authenticates once and caches the token. etcd's simple tokens
 * live in each member's memory: a restarted member no longer knows them
 * (nor does a member that did not see a token used for its TTL), and a
 * change to users or roles makes every token "old". etcd3 re-authenticates
 * only when a unary call is refused with "invalid auth token", and measured
 * against etcd 3.4 three more cases broke a client for good:
 *
 * 1. A watch stream that reconnects to a restarted member carries the old
 *    token: etcd cancels the first watch it creates ("invalid auth token"),
 *    etcd3 hands that watcher an error and never creates the watchers queued
 *    behind it. Every watch of the client then stays silent.
 * 2. etcd3 retries a call refused for its token from inside that call. When
 *    the call was a circuit breaker's half-open probe, the retry waits for the
 *    probe to finish: it never does, and every later call on that member
 *    waits behind it (a hang, seen with one endpoint).
 * 3. "revision of auth store is old" (after any user or role change) is not
 *    retried at all: every request fails until the process restarts.
 *
 * This module closes the three: a token refused on a stream is dropped and
 * the stream re-made (etcd3 then re-creates every watcher on the new stream,
 * from the revision each had reached); a call made from inside another call
 * never queues behind a half-open probe; an old-revision refusal drops the
 * token and the call is retried with a new one.
 *
 * It reaches one private field of etcd3 (the connection pool's
 * authenticator, to drop its cached token). `attach` checks its shape, so a
 * changed etcd3 fails at connect time, loudly, instead of silently.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Etcd3 } from 'etcd3';
import { CircuitState, type CircuitBreakerPolicy, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';

const STALE_TOKEN = /invalid auth token|revision of auth store is old/;

export function isStaleTokenError(err: unknown): boolean {
  return err instanceof Error && STALE_TOKEN.test(err.message);
}

interface Authenticator {
  invalidateMetadata(): void;
}

interface GrpcStream {
  emit(event: string | symbol, ...args: unknown[]): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  cancel(): void;
}

interface WatchResponse {
  canceled?: boolean;
  cancel_reason?: string;
}

/**
 * Set while a store call runs. A call that finds it set was made from inside
 * another (etcd3 retrying from within), or from a callback of a stream such a
 * call opened; either way it goes to the member without waiting for a
 * half-open probe, which costs at most a few extra tries of a member that
 * may still be down.
 */
const insideCall = new AsyncLocalStorage<true>();

/**
 * A member's circuit breaker that never makes a nested call wait for a
 * half-open probe (case 2 above): such a call goes straight to the member.
 */
export class NestingSafeBreaker implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never;
  constructor(private readonly inner: CircuitBreakerPolicy) {}

  get onSuccess(): IPolicy['onSuccess'] {
    return this.inner.onSuccess;
  }

  get onFailure(): IPolicy['onFailure'] {
    return this.inner.onFailure;
  }

  execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (insideCall.getStore() && this.inner.state === CircuitState.HalfOpen) {
      return Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal }));
    }
    return this.inner.execute((ctx) => insideCall.run(true, () => fn(ctx)), signal);
  }
}

export class AuthRecovery {
  private authenticator: Authenticator | undefined;

  /** The global policy of the client, retrying a call once with a fresh token when etcd calls its token old (case 3). */
  wrapGlobal(policy: IPolicy<IDefaultPolicyContext>): IPolicy<IDefaultPolicyContext> {
    return new StaleTokenRetry(policy, () => this.dropToken());
  }

  /** Hooks the client's stream factories (case 1). Call once, right after constructing it. */
  attach(etcd: Etcd3): void {
    const pool = (etcd as unknown as { pool?: { authenticator?: Partial<Authenticator> } }).pool;
    const auth = pool?.authenticator;
    if (typeof auth?.invalidateMetadata !== 'function') {
      throw new Error('etcd3 changed: its connection pool has no authenticator to refresh; see src/registry/auth-recovery.ts');
    }
    this.authenticator = auth as Authenticator;
    const watch = etcd.watchClient.watch.bind(etcd.watchClient);
    etcd.watchClient.watch = async (options) => {
      const stream = await watch(options);
      this.guardStream(stream as unknown as GrpcStream, true);
      return stream;
    };
    const keepAlive = etcd.leaseClient.leaseKeepAlive.bind(etcd.leaseClient);
    etcd.leaseClient.leaseKeepAlive = async (options) => {
      const stream = await keepAlive(options);
      this.guardStream(stream as unknown as GrpcStream, false);
      return stream;
    };
  }

  dropToken(): void {
    this.authenticator?.invalidateMetadata();
  }

  private guardStream(stream: GrpcStream, isWatch: boolean): void {
    stream.on('error', (err) => {
      if (isStaleTokenError(err)) this.dropToken();
    });
    if (!isWatch) return;
    const emit = stream.emit.bind(stream);
    let dropped = false;
    stream.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      const res = args[0] as WatchResponse | undefined;
      if (event === 'data' && res?.canceled && STALE_TOKEN.test(res.cancel_reason ?? '')) {
        // Swallowed: the watcher is not at fault, the stream's token is. A new
        // stream (with a new token) re-creates every watcher of this one.
        if (!dropped) {
          dropped = true;
          this.dropToken();
          stream.cancel();
        }
        return true;
      }
      return emit(event, ...args);
    };
  }
}

class StaleTokenRetry implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never;
  constructor(
    private readonly inner: IPolicy<IDefaultPolicyContext>,
    private readonly dropToken: () => void,
  ) {}

  get onSuccess(): IPolicy['onSuccess'] {
    return this.inner.onSuccess;
  }

  get onFailure(): IPolicy['onFailure'] {
    return this.inner.onFailure;
  }

  /** A refused call did not run (etcd checks the token before applying anything), so retrying it is safe. */
  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    try {
      return await this.inner.execute(fn, signal);
    } catch (err) {
      if (!isStaleTokenError(err)) throw err;
      this.dropToken();
      return await this.inner.execute(fn, signal);
    }
  }
}
