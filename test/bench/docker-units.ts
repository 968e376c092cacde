/**
 * Benchmark: Docker units against plain services on the same real 3-host
 * cluster (TTL 3 s, a Docker engine per host, busybox from the loopback
 * registry, already pulled on every host, as it is after a unit's first
 * start there). Prints figures and same-run ratios; asserts nothing.
 *
 *   npm run bench:docker-units            (RUNS=10 starts, REPS=3 host losses)
 *
 * - start: desired state written -> the host's agent reports active (what
 *   Flotilla shows), and for the Docker unit also -> its container running
 *   in that host's engine (what the service needs);
 * - failover: power loss of a host running one unit of each kind -> the unit
 *   active on another host (and its container running there).
 * The vfs storage driver copies each container's whole root file system at
 * create time; figures on a host with overlayfs are lower.
 */
import { LocalCluster } from '../../src/dev/cluster.js';
import type { Registry } from '../../src/registry/registry.js';
import { decodeUnitState } from '../../src/registry/records.js';
import { waitFor } from '../../src/util/deadline.js';
import { UnitFile } from '../../src/unit/index.js';
import { docker, hostsWithContainer } from '../support/docker.js';
import { hostsRunning } from '../support/hosts.js';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { percentile, summary } from './stats.js';

const RUNS = Number(process.env.RUNS ?? 10);
const REPS = Number(process.env.REPS ?? 3);
const TTL = 3;

const PLAIN = '[Service]\nExecStart=/bin/sleep infinity\n';
/** The CoreOS Docker-unit shape, as units/etcd@.service has it. */
function dockerUnit(container: string): string {
  return [
    '[Unit]', 'Requires=docker.service', 'After=docker.service', '',
    '[Service]',
    'EnvironmentFile=%E/flotilla/images.env',
    `ExecStartPre=-/usr/bin/docker rm -f ${container}`,
    'ExecStartPre=/usr/bin/docker pull ${BUSYBOX_IMAGE}',
    `ExecStart=/usr/bin/docker run --rm --name ${container} --network=host \${BUSYBOX_IMAGE} sleep 1000000`,
    `ExecStop=/usr/bin/docker stop --time=1 ${container}`,
    '',
  ].join('\n');
}

/** Write the unit, launch it, resolve with the ms until an agent reports it active, and where. */
async function launch(registry: Registry, name: string, content: string): Promise<{ ms: number; machineId: string; t0: number }> {
  const file = UnitFile.parse(content);
  await registry.putUnit({ name, hash: file.hash(), desired: 'inactive' }, file.serialize());
  const watcher = await registry.etcd.watch().prefix(registry.keys.unitStatesPrefix(name)).create();
  try {
    const active = new Promise<{ at: number; machineId: string }>((resolve) => {
      watcher.on('put', (kv) => {
        const s = decodeUnitState(kv.value.toString());
        if (s?.active === 'active' && s.applied === 'launched') resolve({ at: performance.now(), machineId: s.machineId });
      });
    });
    const t0 = performance.now();
    await registry.setDesiredState(name, 'launched');
    const { at, machineId } = await active;
    return { ms: at - t0, machineId, t0 };
  } finally {
    await watcher.cancel();
  }
}

async function containerRunning(cluster: LocalCluster, host: number, container: string, t0: number): Promise<number> {
  return waitFor(`${container} running on host ${host + 1}`, async () => ((await hostsWithContainer(cluster, container, [host])).length === 1 ? performance.now() - t0 : undefined), { timeoutMs: 60_000, intervalMs: 20 });
}

async function retire(registry: Registry, cluster: LocalCluster, names: string[]): Promise<void> {
  for (const n of names) await registry.destroyUnit(n);
  await waitFor('retired units stopped', async () => {
    for (const n of names) if ((await hostsRunning(cluster, n)).length > 0) return undefined;
    return true;
  }, { timeoutMs: 60_000, intervalMs: 100 });
}

function ratio(a: number[], b: number[]): string {
  return `${(percentile(a, 50) / percentile(b, 50)).toFixed(1)}x`;
}

runClusterBenchmark('docker-bench', { hosts: 3, ttlSeconds: TTL, docker: true }, async (cluster, registry) => {
  const hostOf = (machineId: string): number => cluster.hosts.findIndex((h) => h.machineId === machineId);
  for (const h of cluster.hosts) {
    const r = await docker(cluster, h.index, ['pull', '--quiet', cluster.images?.busybox as string]);
    if (r.code !== 0) throw new Error(`pre-pull on ${h.name}: ${r.stderr.trim()}`);
  }

  const plain: number[] = [];
  const dockerActive: number[] = [];
  const dockerRunning: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push((await launch(registry, `plain-${i}.service`, PLAIN)).ms);
    const d = await launch(registry, `box-${i}.service`, dockerUnit(`box-${i}`));
    dockerActive.push(d.ms);
    dockerRunning.push(await containerRunning(cluster, hostOf(d.machineId), `box-${i}`, d.t0));
    await retire(registry, cluster, [`plain-${i}.service`, `box-${i}.service`]);
  }

  const plainMoved: number[] = [];
  const dockerMoved: number[] = [];
  const dockerMovedRunning: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    // A Docker unit on a host that is not the engine's (the engine's own failover would blur the
    // figure), then plain units until one lands there too: independent units, both on the victim.
    let box = '';
    let victim = -1;
    for (let attempt = 0; victim < 0; attempt++) {
      if (attempt > 5) throw new Error('every Docker unit landed on the engine host');
      box = `fo-box-${rep}-${attempt}`;
      const placed = hostOf((await launch(registry, `${box}.service`, dockerUnit(box))).machineId);
      if (placed !== (await cluster.engineHost())) victim = placed;
      else await retire(registry, cluster, [`${box}.service`]);
    }
    const extras: string[] = [];
    let plainName = '';
    for (let k = 0; !plainName; k++) {
      if (k > 8) throw new Error(`no plain unit landed on host ${victim + 1}`);
      const name = `fo-plain-${rep}-${k}.service`;
      if (hostOf((await launch(registry, name, PLAIN)).machineId) === victim) plainName = name;
      else extras.push(name);
    }
    await containerRunning(cluster, victim, box, performance.now());
    const survivors = cluster.hosts.map((h) => h.index).filter((i) => i !== victim);
    const t0 = performance.now();
    await cluster.killHost(victim);
    const since = (check: () => Promise<boolean>) => waitFor('a unit moved', async () => ((await check()) ? performance.now() - t0 : undefined), { timeoutMs: 60_000, intervalMs: 25 });
    const [p, d, c] = await Promise.all([
      since(async () => (await hostsRunning(cluster, plainName, survivors)).length === 1),
      since(async () => (await hostsRunning(cluster, `${box}.service`, survivors)).length === 1),
      since(async () => (await hostsWithContainer(cluster, box, survivors)).length === 1),
    ]);
    plainMoved.push(p);
    dockerMoved.push(d);
    dockerMovedRunning.push(c);
    await retire(registry, cluster, [plainName, `${box}.service`, ...extras]);
    await cluster.restartHost(victim);
  }

  console.log(`Docker units vs plain services, 3 hosts, TTL ${TTL} s, ${RUNS} starts and ${REPS} host losses (machine shared with other work: read the ratios)`);
  console.log(summary('start: plain service active', plain));
  console.log(summary('start: Docker unit active', dockerActive));
  console.log(summary('start: Docker unit, container running', dockerRunning));
  console.log(summary('failover: plain service active elsewhere', plainMoved));
  console.log(summary('failover: Docker unit active elsewhere', dockerMoved));
  console.log(summary('failover: container running elsewhere', dockerMovedRunning));
  console.log(`ratios (p50, Docker / plain): start active ${ratio(dockerActive, plain)}, start container running ${ratio(dockerRunning, plain)}; failover active ${ratio(dockerMoved, plainMoved)}, container running ${ratio(dockerMovedRunning, plainMoved)}`);
});
