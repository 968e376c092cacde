/**
 * Connection to the cluster store. One place decides timeouts and retry
 * policy, so every role fails and recovers the same way.
 */
import { Etcd3, isRecoverableError } from 'etcd3';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, type IBackoff } from 'cockatiel';
import { InvalidInputError } from '../util/errors.js';
import { AuthRecovery, NestingSafeBreaker } from './auth-recovery.js';
import type { StoreSecurity } from './store-security.js';

export interface StoreOptions {
  endpoints: string[];
  /** Deadline for each unary request. */
  requestTimeoutMs?: number;
  dialTimeoutMs?: number;
  /** TLS material and user (see store-security.ts); absent: plain, unauthenticated. */
  security?: StoreSecurity;
}

export function parseEndpoints(value: string, what = 'endpoint'): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim().replace(/^[["\s]+|[\]"\s]+$/g, ''))
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new InvalidInputError(`${what} is empty: give one or more etcd URLs, e.g. http://127.0.0.1:2379`);
  for (const url of list) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidInputError(`${what} "${url}" is not a URL: use http://HOST:PORT`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidInputError(`${what} "${url}" has scheme ${parsed.protocol.replace(':', '')}: only http and https etcd URLs are supported`);
    }
  }
  return list;
}

/** The largest etcd answer a client takes (gRPC's default is 4 MB). */
export const STORE_ANSWER_MAX_BYTES = 256 * 1024 * 1024;

export function connectStore(opts: StoreOptions): Etcd3 {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
  const tls = opts.security?.tls;
  const auth = opts.security?.auth;
  const recovery = auth ? new AuthRecovery() : undefined;
  const global = retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(2, opts.endpoints.length) });
  const etcd = new Etcd3({
    hosts: opts.endpoints,
    dialTimeout: opts.dialTimeoutMs ?? 3000,
    // gRPC refuses answers over 4 MB by default, and etcd3 takes that refusal for a failing
    // member (a breaker trips, the call is retried): the assignments of 50,000 units (~9 MB)
    // could not be read at all. 256 MB is far above any real cluster's prefix, and still a
    // bound on what garbage in etcd can make every flotillad buffer.
    grpcOptions: { 'grpc.max_receive_message_length': STORE_ANSWER_MAX_BYTES },
    // Without a CA file grpc verifies against the system's CAs (null); never unverified.
    ...(tls ? { credentials: { rootCertificate: tls.ca ?? (null as unknown as Buffer), ...(tls.cert ? { certChain: tls.cert } : {}), ...(tls.key ? { privateKey: tls.key } : {}) } } : {}),
    ...(auth ? { auth: { username: auth.username, password: auth.password } } : {}),
    // Streams (watches, keepalives) must not carry a deadline; unary calls must,
    // so a dead member turns into an error we can act on instead of a hang.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    faultHandling: {
      // Move to another member quickly instead of waiting out a dead one.
      host: () => new NestingSafeBreaker(circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) })),
      global: recovery ? recovery.wrapGlobal(global) : global,
      // The default backoff grows to 30 s; a watch must come back within a lease TTL.
      // etcd3 declares an IBackoff but calls .next() on it first: it wants the factory.
      watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) as unknown as IBackoff<unknown>,
    },
  });
  recovery?.attach(etcd);
  return etcd;
}
