/**
 * A real etcd that requires TLS client certificates and a password, with
 * certificates made by openssl for the test: the right CA, etcd's
 * certificate (127.0.0.1), a client certificate, and, for the failure
 * cases, a second CA and a client certificate it signed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { enableEtcdAuth, randomPassword, type EtcdUser } from '../../src/dev/etcd-auth.js';
import { makeCA, makeCert, makeDevTls, makeJwtKeys, type CertFiles, type DevTls } from '../../src/dev/tls.js';
import { connectStore, type StoreOptions } from '../../src/registry/store.js';
import { waitFor } from '../../src/util/deadline.js';
import { DAEMON_CREDENTIAL_NAMES, loadStoreSecurity, type StoreCredentials } from '../../src/registry/store-security.js';
import type { Etcd3 } from 'etcd3';

export interface SecureEtcd {
  dir: string;
  etcd: EtcdCluster;
  endpoints: string[];
  tls: DevTls;
  /** A CA that signed neither etcd's certificate nor the client's. */
  wrongCa: CertFiles;
  /** A client certificate signed by wrongCa. */
  strangerClient: CertFiles;
  user: EtcdUser;
  /** etcd's root user, for changing users and roles in a test. */
  root: EtcdUser;
  prefix: string;
  /** The right material and user. */
  credentials: StoreCredentials;
  /** Client options with the right material, changed by `override` (undefined fields removed). */
  store(override?: Partial<Record<keyof StoreCredentials, string | undefined>>, endpoints?: string[]): StoreOptions;
  connect(override?: Partial<Record<keyof StoreCredentials, string | undefined>>, endpoints?: string[]): Etcd3;
  stop(): Promise<void>;
}

/** `jwt`: signed tokens (etcd's --auth-token jwt) instead of etcd's default simple tokens. */
export async function startSecureEtcd(opts: { members: 1 | 3; prefix?: string; fastElection?: boolean; jwt?: boolean }): Promise<SecureEtcd> {
  const dir = await mkdtemp('/tmp/fl-sec-');
  const prefix = opts.prefix ?? '/flotilla/';
  const tlsDir = join(dir, 'tls');
  const tls = await makeDevTls(tlsDir);
  const wrongCa = await makeCA(tlsDir, 'wrong-ca', 'some other CA');
  const strangerClient = await makeCert(tlsDir, 'stranger', wrongCa, { cn: 'stranger', usage: 'client' });
  const jwt = opts.jwt ? await makeJwtKeys(tlsDir) : undefined;
  const etcd = await startEtcd({
    ...(jwt ? { authToken: `jwt,pub-key=${jwt.pub},priv-key=${jwt.priv},sign-method=ES256` } : {}),
    dir: join(dir, 'etcd'),
    members: opts.members,
    fastElection: opts.fastElection ?? true,
    tls: { caFile: tls.ca.cert, certFile: tls.server.cert, keyFile: tls.server.key },
  });
  const user = { name: 'flotilla', password: randomPassword() };
  const root = { name: 'root', password: randomPassword() };
  const clientTls = { caFile: tls.ca.cert, certFile: tls.client.cert, keyFile: tls.client.key };
  try {
    await enableEtcdAuth(etcd.endpoints, clientTls, root, user, prefix);
  } catch (err) {
    await etcd.stop();
    throw err;
  }
  const credentials: StoreCredentials = { ...clientTls, username: user.name, password: user.password };
  const store = (override: Partial<Record<keyof StoreCredentials, string | undefined>> = {}, endpoints = etcd.endpoints): StoreOptions => {
    const c: Record<string, string | undefined> = { ...credentials, ...override };
    for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
    return { endpoints, requestTimeoutMs: 2_000, security: loadStoreSecurity(c as StoreCredentials, DAEMON_CREDENTIAL_NAMES) };
  };
  return {
    dir,
    etcd,
    get endpoints() {
      return etcd.endpoints;
    },
    tls,
    wrongCa,
    strangerClient,
    user,
    root,
    prefix,
    credentials,
    store,
    connect: (override, endpoints) => connectStore(store(override, endpoints)),
    stop: async () => {
      await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Index (in store.endpoints) of the etcd member that is the raft leader, as the members report it. */
export async function leaderIndex(store: StoreOptions): Promise<number> {
  return waitFor('an etcd leader', async () => {
    const ids: string[] = [];
    let leader = '';
    for (const url of store.endpoints) {
      const one = connectStore({ ...store, endpoints: [url] });
      try {
        const st = await one.maintenance.status();
        ids.push(String(st.header.member_id));
        if (st.leader !== '0') leader = String(st.leader);
      } catch {
        ids.push('');
      } finally {
        one.close();
      }
    }
    const i = ids.indexOf(leader);
    return i >= 0 ? i : undefined;
  }, { timeoutMs: 15_000, intervalMs: 100 });
}
