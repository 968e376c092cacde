/**
 * One real single-member etcd for a test file: started by a `before` hook,
 * stopped and its directory removed by an `after` hook. Call it at the top
 * level of the file; the accessors are valid inside tests (and later hooks).
 */
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';

export interface TestEtcd {
  /** A client of the member, shared by the file's tests (closed after them). */
  client(): Etcd3;
  /** The member itself (to stop, compact, read its endpoints). */
  cluster(): EtcdCluster;
  /** The file's scratch directory (the member's data is in etcd/ below it), removed after the tests. */
  dir(): string;
}

/** `ready` runs at the end of the start hook (a file's own \`before\` hooks may run before it). */
export function etcdForTests(name: string, ready?: (client: Etcd3) => void): TestEtcd {
  let dir = '';
  let etcd: EtcdCluster | undefined;
  let client: Etcd3 | undefined;
  before(async () => {
    dir = await mkdtemp(`/tmp/fl-${name}-`);
    etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
    client = connectStore({ endpoints: etcd.endpoints });
    ready?.(client);
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`etcdForTests(${name}): ${what} used before the before hook ran`);
    return v;
  };
  return { client: () => need(client, 'client'), cluster: () => need(etcd, 'cluster'), dir: () => need(dir || undefined, 'dir') };
}
