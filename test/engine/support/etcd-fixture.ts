/**
 * One real etcd per engine test file, started before its tests and stopped
 * after them; every harness gets its own key prefix, so tests in a file never
 * see each other's units or machines.
 */
import { after, before } from 'node:test';
import { mkdtemp } from 'node:fs/promises';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../../src/dev/etcd.js';
import { connectStore } from '../../../src/registry/store.js';
import { EngineHarness } from './harness.js';

export interface EngineFixture {
  /** The client every harness of the file shares (valid once the file's tests run). */
  client(): Etcd3;
  /** A started engine on a fresh prefix. */
  harness(): Promise<EngineHarness>;
}

export function engineFixture(name: string): EngineFixture {
  let etcd: EtcdCluster | undefined;
  let client: Etcd3 | undefined;
  let n = 0;
  before(async () => {
    etcd = await startEtcd({ dir: await mkdtemp(`/tmp/fl-${name}-`), members: 1 });
    client = connectStore({ endpoints: etcd.endpoints });
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });
  const current = (): Etcd3 => {
    if (!client) throw new Error('engine fixture used outside its tests');
    return client;
  };
  return {
    client: current,
    harness: () => new EngineHarness(current(), `/${name}-test-${++n}/`).start(),
  };
}
