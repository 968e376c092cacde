/**
 * Benchmark: one unit, desired state written -> ActiveState=active reported
 * in etcd by its host's agent, 100 times in a row on a real 3-host cluster;
 * and, in the same run, the same unit started directly on one host's systemd
 * (write file, link, StartUnit, wait for active) as the floor.
 *
 *   npm run bench:start-latency            (after npm run build)
 *
 * etcd runs with --unsafe-no-fsync on local disk (see src/dev/etcd.ts); the
 * figures depend on that, as the test-cluster notes say.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from '../../src/registry/registry.js';
import { decodeUnitState } from '../../src/registry/records.js';
import { SystemdManager } from '../../src/systemd/manager.js';
import { UnitFile } from '../../src/unit/index.js';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { summary } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 100);
const CONTENT = '[Service]\nExecStart=/bin/sleep infinity\n';

async function flotillaStart(registry: Registry, name: string): Promise<number> {
  const file = UnitFile.parse(CONTENT);
  await registry.putUnit({ name, hash: file.hash(), desired: 'inactive' }, file.serialize());
  const watcher = await registry.etcd.watch().prefix(registry.keys.unitStatesPrefix(name)).create();
  try {
    const active = new Promise<number>((resolve) => {
      watcher.on('put', (kv) => {
        const s = decodeUnitState(kv.value.toString());
        if (s?.active === 'active' && s.applied === 'launched') resolve(performance.now());
      });
    });
    const t0 = performance.now();
    await registry.setDesiredState(name, 'launched');
    return (await active) - t0;
  } finally {
    await watcher.cancel();
  }
}

async function directStart(manager: SystemdManager, dir: string, name: string): Promise<number> {
  const t0 = performance.now();
  const path = join(dir, name);
  await writeFile(path, CONTENT);
  await manager.linkUnitFiles([path]);
  const active = new Promise<number>((resolve) => {
    const off = manager.onUnitChange((unit, s) => {
      if (unit === name && s.active === 'active') {
        off();
        resolve(performance.now());
      }
    });
  });
  const result = await manager.startUnit(name);
  if (result !== 'done') throw new Error(`direct start of ${name}: ${result}`);
  const status = await manager.unitStatus(name);
  const t1 = status.active === 'active' ? performance.now() : await active;
  return t1 - t0;
}

runClusterBenchmark('bench', { hosts: 3 }, async (cluster, registry) => {
  const flotilla: number[] = [];
  for (let i = 0; i < RUNS; i++) flotilla.push(await flotillaStart(registry, `lat-${i}.service`));

  const host = cluster.hosts[0];
  if (!host) throw new Error('no host');
  const manager = await SystemdManager.connect(host.busAddress);
  const direct: number[] = [];
  const directDir = join(cluster.dir, 'direct');
  await mkdir(directDir, { recursive: true });
  for (let i = 0; i < RUNS; i++) direct.push(await directStart(manager, directDir, `direct-${i}.service`));
  manager.close();

  console.log(`start latency, ${RUNS} sequential single-unit starts, 3 hosts (target: p50 <= 50 ms, p99 <= 200 ms; fleet: 2.96 s)`);
  console.log(summary('flotilla: desired written -> active reported', flotilla));
  console.log(summary('systemd directly: write+link+start -> active', direct));
});
