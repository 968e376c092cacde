/**
 * A throw-away single-member etcd for tests (the dev cluster's launcher), in
 * its own temp dir: `startTestEtcd` to manage it by hand, `etcdForTests` to
 * have a file's hooks start it before its tests and remove it after.
 */
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';

export interface TestEtcd {
  endpoints: string[];
  /** Its temp dir (the member's data is in etcd/ below it); removed by stop. */
  dir: string;
  stop(): Promise<void>;
}

export async function startTestEtcd(name = 'test'): Promise<TestEtcd> {
  const dir = await mkdtemp(join(tmpdir(), `fl-${name}-`));
  try {
    const etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
    return {
      endpoints: etcd.endpoints,
      dir,
      stop: async () => {
        await etcd.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface FileEtcd {
  /** A client of the member, shared by the file's tests (closed after them). */
  client(): Etcd3;
  /** The file's scratch directory, removed after the tests. */
  dir(): string;
}

/** `ready` runs at the end of the start hook (a file's own `before` hooks may run before it). */
export function etcdForTests(name: string, ready?: (client: Etcd3) => void): FileEtcd {
  let etcd: TestEtcd | undefined;
  let client: Etcd3 | undefined;
  before(async () => {
    etcd = await startTestEtcd(name);
    client = connectStore({ endpoints: etcd.endpoints });
    ready?.(client);
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`etcdForTests(${name}): ${what} used before the before hook ran`);
    return v;
  };
  return { client: () => need(client, 'client'), dir: () => need(etcd, 'dir').dir };
}
