/**
 * flotillad's API over one key prefix of a bare etcd, in the test process:
 * the routes flotillad serves (src/daemon/store-api.ts) on a unix socket of
 * their own, with no agent, engine or metrics. flotctl's api driver then sees
 * the same records the test wrote, as the etcd driver does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../../src/api/server.js';
import { DEFAULT_TOKEN_LIMIT } from '../../../src/daemon/config-api.js';
import { storeApiRouter } from '../../../src/daemon/store-api.js';
import { Registry } from '../../../src/registry/registry.js';
import { connectStore } from '../../../src/registry/store.js';
import { silentLogger } from '../../../src/util/log.js';

export interface ApiOverPrefix {
  /** What flotctl's --endpoint takes: unix:///…/api.sock. */
  endpoint: string;
  stop(): Promise<void>;
}

/** flotctl's default --request-timeout (3 s), so both drivers give up on etcd alike. */
const REQUEST_TIMEOUT_MS = 3000;

export async function serveApiOverPrefix(endpoints: readonly string[], prefix: string): Promise<ApiOverPrefix> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-cli-api-'));
  const etcd = connectStore({ endpoints: [...endpoints], requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const registry = new Registry(etcd, prefix);
  const server = new ApiServer(storeApiRouter(registry, { endpoints, requestTimeoutMs: REQUEST_TIMEOUT_MS, tokenLimit: DEFAULT_TOKEN_LIMIT }), silentLogger());
  const socket = join(dir, 'api.sock');
  try {
    await server.start({ socket, tokenLimit: DEFAULT_TOKEN_LIMIT });
  } catch (err) {
    etcd.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `unix://${socket}`,
    stop: async () => {
      await server.stop();
      etcd.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
