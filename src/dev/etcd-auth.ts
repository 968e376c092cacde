/**
 * Authentication for a dev etcd, as an operator would set it up: a root user
 * (etcd needs one before auth can be enabled), and a user for Flotilla whose
 * role may read and write only Flotilla's key prefix. Done through the etcd
 * client's auth API, so no password is ever on a command line.
 */
import { randomBytes } from 'node:crypto';
import { Range } from 'etcd3';
import { connectStore } from '../registry/store.js';
import { DAEMON_CREDENTIAL_NAMES, loadStoreSecurity } from '../registry/store-security.js';
import type { EtcdTls } from './etcd.js';

export interface EtcdUser {
  name: string;
  password: string;
}

export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Creates `root` and `user` (readwrite on `prefix` only), then enables authentication. */
export async function enableEtcdAuth(endpoints: string[], tls: EtcdTls | undefined, root: EtcdUser, user: EtcdUser, prefix: string): Promise<void> {
  const security = loadStoreSecurity(tls ? { caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile } : {}, DAEMON_CREDENTIAL_NAMES);
  const etcd = connectStore({ endpoints, security });
  try {
    await etcd.user(root.name).create(root.password);
    await etcd.role('root').create();
    await etcd.user(root.name).addRole('root');
    const role = etcd.role(user.name);
    await role.create();
    await role.grant({ permission: 'Readwrite', range: Range.prefix(prefix) });
    await etcd.user(user.name).create(user.password);
    await etcd.user(user.name).addRole(user.name);
    await etcd.auth.authEnable({});
  } finally {
    etcd.close();
  }
}
