/**
 * Why etcd cannot be used, in one line that names the setting to fix.
 *
 * gRPC reports most TLS failures as "UNAVAILABLE: No connection established.
 * Last error: null", which says nothing. So when a call fails to connect, the
 * endpoints are probed with a plain TLS handshake carrying the same material
 * (and the HTTP/2 preface, so a refused client certificate, which etcd
 * reports only after the handshake, shows too). This costs nothing on the
 * path that works: it runs only after a failure.
 */
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { CredentialNames, StoreSecurity } from './store-security.js';

const PROBE_TIMEOUT_MS = 2000;
/** The HTTP/2 client preface and an empty SETTINGS frame: any HTTP/2 server answers it with its SETTINGS. */
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

type ProbeResult = { ok: true } | { ok: false; code: string; message: string; afterHandshake: boolean } | { ok: false; code: 'timeout' | 'closed'; afterHandshake: boolean; message: string };

function probeTls(url: URL, security: StoreSecurity | undefined): Promise<ProbeResult> {
  const tls = security?.tls;
  return new Promise((resolve) => {
    let handshook = false;
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port || 2379),
      ALPNProtocols: ['h2'],
      ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.cert ? { cert: tls.cert } : {}),
      ...(tls?.key ? { key: tls.key } : {}),
    });
    settle(socket, resolve, () => handshook);
    socket.on('secureConnect', () => {
      handshook = true;
      socket.write(H2_PREFACE);
    });
  });
}

/** Does a plain TCP connection get an HTTP/2 answer (an etcd without TLS)? */
function probePlain(url: URL): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: url.hostname, port: Number(url.port || 2379) }, () => socket.write(H2_PREFACE));
    settle(socket, resolve, () => true, (data) => data[3] === 4 /* an HTTP/2 SETTINGS frame, not a TLS alert */);
  });
}

function settle(socket: Socket, resolve: (r: ProbeResult) => void, handshook: () => boolean, accept: (data: Buffer) => boolean = () => true): void {
  let done = false;
  const finish = (r: ProbeResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    resolve(r);
  };
  const timer = setTimeout(() => finish({ ok: false, code: 'timeout', message: 'no answer', afterHandshake: handshook() }), PROBE_TIMEOUT_MS);
  socket.on('data', (data: Buffer) => finish(accept(data) ? { ok: true } : { ok: false, code: 'closed', message: 'not HTTP/2', afterHandshake: handshook() }));
  socket.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: err.code ?? 'error', message: err.message.split('\n')[0] ?? '', afterHandshake: handshook() }));
  socket.on('close', () => finish({ ok: false, code: 'closed', message: 'connection closed', afterHandshake: handshook() }));
}

const NETWORK = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'timeout']);

/**
 * The TLS reason etcd at `endpoint` cannot be used with this material, or
 * undefined when TLS is not the problem (the member is down, say).
 */
export async function diagnoseTls(endpoint: string, security: StoreSecurity | undefined, names: CredentialNames): Promise<string | undefined> {
  const url = new URL(endpoint);
  const c = security?.credentials ?? {};
  if (url.protocol === 'http:') {
    if ((await probePlain(url)).ok) return undefined;
    const tls = await probeTls(url, undefined);
    const speaksTls = tls.ok || ('afterHandshake' in tls && tls.afterHandshake) || UNTRUSTED.has(tls.code);
    return speaksTls ? `etcd at ${endpoint} serves TLS: use https://${url.host} in ${names.endpoints}` : undefined;
  }
  const r = await probeTls(url, security);
  if (r.ok || NETWORK.has(r.code)) return undefined;
  if (UNTRUSTED.has(r.code)) {
    return c.caFile
      ? `etcd's certificate at ${endpoint} is not signed by the CA in ${names.caFile} ${c.caFile}: give the CA that signed etcd's certificate`
      : `etcd's certificate at ${endpoint} is not signed by a CA this system trusts: give the CA that signed it with ${names.caFile}`;
  }
  if (r.code === 'CERT_HAS_EXPIRED') return `etcd's certificate at ${endpoint} has expired: renew etcd's certificate`;
  if (r.code === 'CERT_NOT_YET_VALID') return `etcd's certificate at ${endpoint} is not valid yet: check the clocks of this host and etcd's`;
  if (r.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `etcd's certificate at ${endpoint} is not valid for ${url.hostname} (${r.message}): use an endpoint name the certificate holds, or reissue it with that name`;
  if (r.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (!r.afterHandshake && (await probePlain(url)).ok)) {
    return `etcd at ${endpoint} does not serve TLS: use http://${url.host} in ${names.endpoints}, or enable TLS on etcd`;
  }
  if (r.afterHandshake && /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED/.test(r.code)) {
    return c.certFile
      ? `etcd at ${endpoint} refused the client certificate ${names.certFile} ${c.certFile}: it is not signed by a CA etcd trusts (etcd's --trusted-ca-file)`
      : `etcd at ${endpoint} requires a client certificate: give ${names.certFile} and ${names.keyFile}`;
  }
  return undefined;
}

/** The first TLS reason among the endpoints (all probed at once), if any. */
export async function diagnoseEndpoints(endpoints: readonly string[], security: StoreSecurity | undefined, names: CredentialNames): Promise<string | undefined> {
  // A probe that fails outright has no TLS reason to give; the caller keeps its original error.
  const reasons = await Promise.all(endpoints.map((e) => diagnoseTls(e, security, names).catch(() => undefined)));
  return reasons.find((r) => r !== undefined);
}

/** Refusals of the request itself (the connection worked): wrong password, missing permissions. */
export function explainRefusal(err: unknown, security: StoreSecurity | undefined, names: CredentialNames, prefix?: string): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const m = err.message;
  const user = security?.auth?.username;
  if (m.includes('authentication failed, invalid user ID or password')) {
    return `etcd refused user ${JSON.stringify(user ?? '')}: wrong user name or password (${names.username}, ${names.password})`;
  }
  if (m.includes('user name is empty') || (m.includes('permission denied') && !user)) {
    return `etcd requires authentication: give ${names.username} and ${names.password}`;
  }
  if (m.includes('permission denied')) {
    const keys = prefix ? `the key prefix ${prefix}` : "Flotilla's key prefix";
    return `etcd user ${JSON.stringify(user)} may not read and write ${keys}: grant its role readwrite permission on that prefix`;
  }
  if (m.includes('authentication is not enabled') && user) {
    return `etcd does not have authentication enabled, but ${names.username} is set: enable it on etcd (etcdctl auth enable) or remove ${names.username} and ${names.password}`;
  }
  return undefined;
}
