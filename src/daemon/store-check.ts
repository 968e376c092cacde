/**
 * flotillad's first word with etcd. What retrying cannot fix (etcd's
 * certificate not trusted, a client certificate refused or missing, a wrong
 * password, no permission) ends start-up with one line naming the setting;
 * etcd merely not answering yet is waited for, as before (hosts often boot
 * before their etcd).
 */
import { explainStoreError } from '../registry/client-store.js';
import type { Registry } from '../registry/registry.js';
import { probeStore } from '../registry/store-probe.js';
import { FlotillaError, StoreRefusedError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { DaemonConfig } from './config.js';

export async function checkStoreAccess(registry: Registry, c: DaemonConfig, log: Logger): Promise<void> {
  try {
    await probeStore(registry, c.etcdRequestTimeoutMs);
  } catch (err) {
    const explained = await explainStoreError(err, { endpoints: c.etcdServers, requestTimeoutMs: c.etcdRequestTimeoutMs, security: c.etcdSecurity, prefix: c.etcdKeyPrefix });
    if (explained instanceof StoreRefusedError) throw new FlotillaError(explained.message);
    log.warn({ err: errorMessage(explained) }, 'etcd does not answer yet; waiting for it');
  }
}
