/**
 * One real etcd per test file, and a fresh keyspace per test so tests cannot
 * see each other's units. No engine or agent runs: tests that need machines,
 * assignments, states or unplaced reports write those records themselves,
 * standing in for the daemons.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Keys } from '../../../src/registry/keys.js';
import { encode } from '../../../src/registry/records.js';
import { type TestEtcd, startTestEtcd } from '../../support/etcd.js';
import { type RunResult, type Running, flotctl, spawnFlotctl } from './run.js';

export interface Space {
  keys: Keys;
  run(args: string[], opts?: { cwd?: string }): Promise<RunResult>;
  spawn(args: string[], opts?: { cwd?: string }): Running;
  /** Number of keys under the space's prefix (0 = nothing written). */
  count(prefix?: string): Promise<number>;
  /** A machine record as an agent registers it. */
  putMachine(id: string, publicIP: string, metadata?: Record<string, string>): Promise<void>;
}

export class EtcdFixture {
  private n = 0;

  private constructor(
    readonly etcd: TestEtcd,
    readonly raw: Etcd3,
    /** Directory with the test's unit files; the default cwd of flotctl. */
    readonly dir: string,
  ) {}

  static async start(files: Record<string, string>): Promise<EtcdFixture> {
    const etcd = await startTestEtcd();
    const dir = await mkdtemp(join(tmpdir(), 'flotctl-units-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return new EtcdFixture(etcd, new Etcd3({ hosts: etcd.endpoints }), dir);
  }

  space(): Space {
    const prefix = `/t${++this.n}/`;
    const keys = new Keys(prefix);
    const globals = ['--driver', 'etcd', '--endpoint', this.etcd.endpoints.join(','), '--etcd-key-prefix', prefix];
    return {
      keys,
      run: (args, opts) => flotctl([...globals, ...args], { cwd: opts?.cwd ?? this.dir }),
      spawn: (args, opts) => spawnFlotctl([...globals, ...args], { cwd: opts?.cwd ?? this.dir }),
      count: (p = prefix) => this.raw.getAll().prefix(p).count(),
      putMachine: async (id, publicIP, metadata = {}) => {
        await this.raw.put(keys.machine(id)).value(encode({ id, publicIP, metadata, version: '0.1.0' }));
      },
    };
  }

  async stop(): Promise<void> {
    this.raw.close();
    await this.etcd.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
