/**
 * Docker units that really run: a 3-host cluster whose hosts each run their
 * own Docker engine, images served from a registry on loopback. The shipped
 * example units/etcd@.service (the CoreOS Docker-unit shape) and its sidekick
 * etcd-announce@.service are placed by Flotilla; every claim is checked on
 * the hosts' own systemd and Docker engines, and with etcd itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { access } from 'node:fs/promises';
import { controllerSliceDirs, livePidsIn } from '../../src/dev/cgroups.js';
import { LocalCluster } from '../../src/dev/cluster.js';
import { shimSocket } from '../../src/dev/docker.js';
import { mountsUnder } from '../../src/dev/mounts.js';
import { isRunning } from '../../src/dev/procs.js';
import { liveProcsMentioning } from '../dev/leftovers.js';
import { connectStore } from '../../src/registry/store.js';
import { waitFor } from '../../src/util/deadline.js';
import { containerPid, containers, hostsWithContainer } from '../support/docker.js';
import { flotctl } from '../support/flotctl.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';

const TTL = 3;
const repo = fileURLToPath(new URL('../../../', import.meta.url));
let cluster: LocalCluster;
let env: Record<string, string>;
const alive = new Set<number>();

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-docker-'), hosts: 3, ttlSeconds: TTL, docker: true });
  env = cluster.flotctlEnv();
  for (const h of cluster.hosts) alive.add(h.index);
});

after(async () => {
  await cluster?.down();
});

function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function live(): number[] {
  return [...alive].sort();
}

async function start(...units: string[]): Promise<void> {
  const r = await flotctl(env, ['start', '--no-block', ...units.map((u) => `units/${u}`)], { cwd: repo });
  assert.equal(r.code, 0, r.stderr);
}

/** The one live host where `unit` is active and its container runs, once both agree. */
async function placed(unit: string, container: string, timeoutMs = 60_000): Promise<number> {
  return waitFor(`${unit} active with container ${container} on exactly one host`, async () => {
    const on = await hostsRunning(cluster, unit, live());
    if (on.length !== 1) return undefined;
    const withContainer = await hostsWithContainer(cluster, container, live());
    return withContainer.length === 1 && withContainer[0] === on[0] ? on[0] : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

async function announced(instance: string): Promise<string | undefined> {
  const etcd = connectStore({ endpoints: cluster.endpoints });
  try {
    return (await etcd.get(`/services/etcd/${instance}`).string()) ?? undefined;
  } finally {
    etcd.close();
  }
}

async function health(ip: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${ip}:2379/health`, { signal: AbortSignal.timeout(1_000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

test('a Docker unit runs its container on the host Flotilla picked, and its sidekick announces it', async () => {
  await start('etcd@1.service', 'etcd-announce@1.service');
  const host = await placed('etcd@1.service', 'etcd-1');
  const ip = cluster.hosts[host]?.publicIP as string;
  // The sidekick follows it (MachineOf) and publishes the URL of the etcd that really answers there.
  await waitFor('the sidekick active on the same host', async () => ((await hostsRunning(cluster, 'etcd-announce@1.service')).join() === String(host) ? true : undefined), { timeoutMs: 60_000 });
  assert.ok(await health(ip), `etcd in the container does not answer on ${ip}:2379`);
  await waitFor('the announcement', async () => ((await announced('1')) === `http://${ip}:2379` ? true : undefined), { timeoutMs: 30_000 });

  const status = await flotctl(env, ['status', 'etcd@1.service']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Active: active \(running\)/);
  assert.match(status.stdout, /docker run --rm --name etcd-1 /, 'status shows the container the unit runs');
});

test('Conflicts keeps a second instance off that host; each container is on its own host’s engine only', async () => {
  const first = await placed('etcd@1.service', 'etcd-1');
  await start('etcd@2.service');
  const second = await placed('etcd@2.service', 'etcd-2');
  assert.notEqual(second, first);
  assert.ok(await health(cluster.hosts[second]?.publicIP as string));
  for (const i of live()) {
    const names = ((await containers(cluster, i)) ?? []).map((c) => c.name).sort();
    const want = i === first ? ['etcd-1'] : i === second ? ['etcd-2'] : [];
    assert.deepEqual(names, want, `containers on host ${i}`);
  }
});

test('power loss of its host: the container dies with the host, and the unit and its announcement move', async () => {
  const host = await placed('etcd@1.service', 'etcd-1');
  const h = cluster.hosts[host];
  assert.ok(h);
  const pid = await containerPid(cluster, host, 'etcd-1');
  const id = ((await containers(cluster, host)) ?? []).find((c) => c.name === 'etcd-1')?.id as string;
  assert.ok(await exists(shimSocket(h.dir, id)), 'the shim socket is where it is looked for');
  const dockerd = (await hostUnit(cluster, host, 'docker.service')).mainPid;
  const containerd = (await hostUnit(cluster, host, 'containerd.service')).mainPid;
  assert.ok(pid > 0 && dockerd > 0 && containerd > 0, `pids ${pid} ${dockerd} ${containerd}`);

  await cluster.killHost(host);
  alive.delete(host);
  for (const [what, p] of [['the container', pid], ['dockerd', dockerd], ['containerd', containerd]] as const) {
    assert.equal(await isRunning(p), false, `${what} (pid ${p}) still runs after its host's power loss`);
  }
  const slice = h.cgroupPaths[0]?.split('/').pop() as string;
  assert.deepEqual(await livePidsIn([...h.cgroupPaths, ...(await controllerSliceDirs(slice))]), [], 'processes left in the dead host’s cgroups');
  assert.equal(await containers(cluster, host), undefined, 'the dead host’s engine still answers');
  assert.deepEqual(await mountsUnder(h.dir), [], 'dockerd’s mounts outlived its host');
  for (const d of await controllerSliceDirs(slice)) assert.equal(await exists(d), false, `${d} left behind`);
  assert.equal(await exists(shimSocket(h.dir, id)), false, 'the killed shim’s socket is left in /run/containerd/s');

  const now = await placed('etcd@1.service', 'etcd-1', (TTL + 30) * 1000);
  assert.notEqual(now, host);
  const ip = cluster.hosts[now]?.publicIP as string;
  await waitFor('the announcement of the new host', async () => ((await announced('1')) === `http://${ip}:2379` ? true : undefined), { timeoutMs: 60_000 });
  // Exactly one etcd-1 runs anywhere: the new host's copy removed nobody else's.
  assert.deepEqual(await hostsWithContainer(cluster, 'etcd-1', live()), [now]);
});

test('stop and destroy leave no container behind on any engine', async () => {
  const r = await flotctl(env, ['stop', 'etcd@1.service', 'etcd@2.service']);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('no etcd container on any engine', async () => {
    for (const i of live()) {
      const list = await containers(cluster, i);
      if (!list || list.some((c) => c.name.startsWith('etcd-'))) return undefined;
    }
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  for (const i of live()) {
    assert.equal((await hostUnit(cluster, i, 'etcd@1.service')).active !== 'active', true);
    assert.equal((await hostUnit(cluster, i, 'etcd-announce@1.service')).active !== 'active', true, 'the sidekick outlived its unit (BindsTo)');
  }
  // A later start on the same hosts finds no stale container to trip over, and destroy cleans up too.
  await start('etcd@2.service');
  const host = await placed('etcd@2.service', 'etcd-2');
  const d = await flotctl(env, ['destroy', 'etcd@1.service', 'etcd@2.service', 'etcd-announce@1.service']);
  assert.equal(d.code, 0, d.stderr);
  await waitFor('etcd-2 gone after destroy', async () => {
    const list = await containers(cluster, host);
    return list && !list.some((c) => c.name === 'etcd-2') ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200 });
});

test('down leaves no process, mount, cgroup or registry behind', async () => {
  const slices = cluster.hosts.map((h) => h.cgroupPaths[0]?.split('/').pop() as string);
  const registryDir = `${cluster.dir}/registry`;
  await cluster.down();
  assert.deepEqual(await liveProcsMentioning([cluster.dir, ...slices]), []);
  assert.deepEqual(await mountsUnder(cluster.dir), []);
  for (const slice of slices) for (const d of await controllerSliceDirs(slice)) assert.equal(await exists(d), false, d);
  assert.equal(await exists(`${registryDir}/data`), false, 'the registry’s storage');
});
