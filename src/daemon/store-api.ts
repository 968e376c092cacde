/**
 * The API's routes over one registry (one etcd connection, one key prefix),
 * through the client library flotctl's etcd driver uses, so both drivers
 * share every rule. flotillad serves this on its own listeners; the CLI
 * tests serve it over a bare etcd to run flotctl's api driver without a
 * daemon (test/cli/support/api-over-prefix.ts).
 */
import type { Registry } from '../registry/registry.js';
import { clientStoreOver } from '../registry/client-store.js';
import { historyStoreOver } from '../registry/history-store.js';
import type { StoreSecurity } from '../registry/store-security.js';
import { EtcdClusterClient } from '../client/etcd-client.js';
import { StoreSourceClient } from '../client/sources/store-sources.js';
import { apiRouter } from '../api/server.js';
import type { Router, StreamHandler } from '../api/router.js';
import { eventsHandler } from '../events/stream.js';

export interface StoreApiOptions {
  /** The registry's etcd, named in the errors the store explains. */
  endpoints: readonly string[];
  requestTimeoutMs: number;
  security?: StoreSecurity;
  /** Page size of /fleet/v1 lists (token_limit). */
  tokenLimit: number;
  /** GET /metrics: the daemon's own figures, where there is a daemon. */
  metrics?: StreamHandler;
}

export function storeApiRouter(registry: Registry, opts: StoreApiOptions): Router {
  const store = clientStoreOver(registry, { endpoints: opts.endpoints, prefix: registry.keys.prefix, requestTimeoutMs: opts.requestTimeoutMs, ...(opts.security ? { security: opts.security } : {}) });
  const client = new EtcdClusterClient(store);
  const access = client.sourceAccess();
  const sources = new StoreSourceClient(access.store, access.contents);
  const events = eventsHandler({ store: historyStoreOver(registry) });
  return apiRouter({ client, sources, inventory: () => sources.listInventory(), tokenLimit: opts.tokenLimit }, { ...(opts.metrics ? { metrics: opts.metrics } : {}), events });
}
