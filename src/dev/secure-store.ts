/**
 * `flotillad dev --secure`: an etcd that requires TLS client certificates
 * and a password, as production etcds do. The certificates and passwords
 * live in <dir>/tls (mode 0700); the hosts' flotillad configs name the
 * files and hold the password (mode 0600); flotctl gets them through its
 * FLOTCTL_* variables. Passwords go through files and the etcd client's
 * auth API, never a command line.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAEMON_CREDENTIAL_NAMES, loadStoreSecurity, type StoreSecurity } from '../registry/store-security.js';
import { enableEtcdAuth, randomPassword } from './etcd-auth.js';
import type { EtcdTls } from './etcd.js';
import { makeDevTls } from './tls.js';

/** What cluster.json records of a secured store. */
export interface SecureStore {
  caFile: string;
  /** etcd's own certificate and key. */
  server: { certFile: string; keyFile: string };
  /** Flotilla's client certificate and key. */
  certFile: string;
  keyFile: string;
  username: string;
  passwordFile: string;
  /** root's password, for an operator poking at etcd by hand. */
  rootPasswordFile: string;
}

export const DEV_ETCD_USER = 'flotilla';

export async function prepareSecureStore(dir: string): Promise<SecureStore> {
  const tlsDir = join(dir, 'tls');
  const tls = await makeDevTls(tlsDir);
  const store: SecureStore = {
    caFile: tls.ca.cert,
    server: { certFile: tls.server.cert, keyFile: tls.server.key },
    certFile: tls.client.cert,
    keyFile: tls.client.key,
    username: DEV_ETCD_USER,
    passwordFile: join(tlsDir, `${DEV_ETCD_USER}.password`),
    rootPasswordFile: join(tlsDir, 'root.password'),
  };
  await writeFile(store.passwordFile, `${randomPassword()}\n`, { mode: 0o600 });
  await writeFile(store.rootPasswordFile, `${randomPassword()}\n`, { mode: 0o600 });
  return store;
}

export function serverTls(s: SecureStore): EtcdTls {
  return { caFile: s.caFile, certFile: s.server.certFile, keyFile: s.server.keyFile };
}

function password(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** Users and roles, then `auth enable`: from here on every client needs the password. */
export async function enableAuth(s: SecureStore, endpoints: string[], prefix: string): Promise<void> {
  const client = { caFile: s.caFile, certFile: s.certFile, keyFile: s.keyFile };
  await enableEtcdAuth(endpoints, client, { name: 'root', password: password(s.rootPasswordFile) }, { name: s.username, password: password(s.passwordFile) }, prefix);
}

/** flotillad config lines naming the material (the file holding them is written mode 0600). */
export function secureConfig(s: SecureStore): Record<string, string> {
  return { etcd_cafile: s.caFile, etcd_certfile: s.certFile, etcd_keyfile: s.keyFile, etcd_username: s.username, etcd_password: password(s.passwordFile) };
}

export function secureFlotctlEnv(s: SecureStore): Record<string, string> {
  return { FLOTCTL_CA_FILE: s.caFile, FLOTCTL_CERT_FILE: s.certFile, FLOTCTL_KEY_FILE: s.keyFile, FLOTCTL_USERNAME: s.username, FLOTCTL_PASSWORD: password(s.passwordFile) };
}

/** For the cluster's own clients (readiness waits, tests). */
export function storeSecurity(s: SecureStore | undefined): StoreSecurity | undefined {
  if (!s) return undefined;
  return loadStoreSecurity({ caFile: s.caFile, certFile: s.certFile, keyFile: s.keyFile, username: s.username, password: password(s.passwordFile) }, DAEMON_CREDENTIAL_NAMES);
}
