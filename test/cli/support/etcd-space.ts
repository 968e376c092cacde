/**
 * One real etcd per test file, and a fresh keyspace per test so tests cannot
 * see each other's units. No engine or agent runs: tests that need machines,
 * assignments, states or unplaced reports write those records themselves,
 * standing in for the daemons.
 *
 * Each space is reached through one of flotctl's drivers: etcd (straight to
 * the prefix) or api (flotillad's API routes over the same prefix, served in
 * this process, see api-over-prefix.ts). forEachDriver runs a suite once per
 * driver, so both must answer alike.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Keys } from '../../../src/registry/keys.js';
import { encode } from '../../../src/registry/records.js';
import { type TestEtcd, startTestEtcd } from '../../support/etcd.js';
import { type RunResult, type Running, flotctl, spawnFlotctl } from './run.js';
import { type ApiOverPrefix, serveApiOverPrefix } from './api-over-prefix.js';

export type Driver = 'etcd' | 'api';
export const DRIVERS: readonly Driver[] = ['etcd', 'api'];

/** Declares a suite once per driver (its name says which). */
export function forEachDriver(suite: (driver: Driver) => void): void {
  for (const driver of DRIVERS) suite(driver);
}

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
  /** The API servers of the api driver's spaces, one per prefix (the API serves one), stopped with the fixture. */
  private readonly apis: ApiOverPrefix[] = [];

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

  async space(driver: Driver): Promise<Space> {
    const prefix = `/t${++this.n}/`;
    const keys = new Keys(prefix);
    const globals = await this.globals(driver, prefix);
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

  private async globals(driver: Driver, prefix: string): Promise<string[]> {
    if (driver === 'etcd') return ['--driver', 'etcd', '--endpoint', this.etcd.endpoints.join(','), '--etcd-key-prefix', prefix];
    const api = await serveApiOverPrefix(this.etcd.endpoints, prefix);
    this.apis.push(api);
    return ['--driver', 'api', '--endpoint', api.endpoint];
  }

  async stop(): Promise<void> {
    await Promise.all(this.apis.splice(0).map((a) => a.stop()));
    this.raw.close();
    await this.etcd.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
