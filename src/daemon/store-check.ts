/**
 * flotillad's first word with etcd. What retrying cannot fix (etcd's
 * certificate not trusted, a client certificate refused or missing, a wrong
 * password, no permission) ends start-up with one line naming the setting;
 * etcd merely not answering yet is waited for, as before (hosts often boot
 * before their etcd).
 */
import type { Etcd3 } from 'etcd3';
import { explainStoreError } from '../registry/client-store.js';
import { Keys } from '../registry/keys.js';
import { FlotillaError, StoreRefusedError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { DaemonConfig } from './config.js';

export async function checkStoreAccess(etcd: Etcd3, c: DaemonConfig, log: Logger): Promise<void> {
  try {
    await etcd.get(new Keys(c.etcdKeyPrefix).machinesPrefix).options({ deadline: Date.now() + c.etcdRequestTimeoutMs }).exec();
  } catch (err) {
    const explained = await explainStoreError(err, { endpoints: c.etcdServers, requestTimeoutMs: c.etcdRequestTimeoutMs, security: c.etcdSecurity, prefix: c.etcdKeyPrefix });
    if (explained instanceof StoreRefusedError) throw new FlotillaError(explained.message);
    log.warn({ err: errorMessage(explained) }, 'etcd does not answer yet; waiting for it');
  }
}
