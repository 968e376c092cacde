/** A throw-away single-member etcd for tests (the dev cluster's launcher), in its own temp dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd } from '../../../src/dev/etcd.js';

export interface TestEtcd {
  endpoints: string[];
  stop(): Promise<void>;
}

export async function startTestEtcd(): Promise<TestEtcd> {
  const dir = await mkdtemp(join(tmpdir(), 'flotctl-test-'));
  try {
    const etcd = await startEtcd({ dir, members: 1 });
    return {
      endpoints: etcd.endpoints,
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
