/**
 * The fault controls of LocalCluster on a real cluster (3 etcd members, two
 * hosts whose agents reach etcd through proxies, TTL 3 s): each fault has
 * the effect on the agent's presence that the chaos suite relies on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { once } from 'node:events';
import { LocalCluster } from '../../src/dev/cluster.js';
import { procState } from '../../src/dev/procs.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { waitFor } from '../../src/util/deadline.js';
import { existing, liveProcsMentioning } from './leftovers.js';

const TTL = 3;
let cluster: LocalCluster;
let registry: Registry;
let dir: string;

before(async () => {
  dir = await mkdtemp('/tmp/fl-faults-');
  cluster = await LocalCluster.start({ dir, hosts: 2, ttlSeconds: TTL, etcdMembers: 3, fastElection: true, etcdProxy: true });
  registry = new Registry(connectStore({ endpoints: cluster.endpoints }), cluster.prefix);
});

after(async () => {
  registry?.etcd.close();
  await cluster?.down();
  await rm(dir, { recursive: true, force: true });
});

async function logTail(i: number): Promise<string> {
  const text = await readFile(cluster.hosts[i]?.logPath ?? '', 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-15).join('\n');
}

async function registered(i: number): Promise<boolean> {
  return (await registry.listMachineIds()).includes(cluster.hosts[i]?.machineId ?? '?');
}

const LEASE_GONE_MS = (TTL + 3) * 1000;
const waitGone = (i: number) => waitFor(`host${i + 1}'s machine key to expire`, async () => ((await registered(i)) ? undefined : true), { timeoutMs: LEASE_GONE_MS });
const waitBack = (i: number) => waitFor(`host${i + 1} registered again`, async () => ((await registered(i)) ? true : undefined), { timeoutMs: 15_000 });

test('agents use their proxies, and engineHost names a host', async () => {
  for (const h of cluster.hosts) {
    const conf = await readFile(h.configPath, 'utf8');
    const servers = /^etcd_servers=(.*)$/m.exec(conf)?.[1]?.split(',') ?? [];
    assert.equal(servers.length, 3);
    for (const s of servers) assert.ok(!cluster.endpoints.includes(s), `${h.name} talks to etcd member ${s} directly`);
  }
  const engine = await waitFor('an engine', () => cluster.engineHost(), { timeoutMs: 10_000 });
  assert.ok(engine === 0 || engine === 1);
});

for (const mode of ['blackhole', 'reset'] as const) {
  test(`partition (${mode}): the agent's lease expires while flotillad runs on; heal brings it back`, async () => {
    const pid = await cluster.flotilladPid(1);
    cluster.partition(1, mode);
    assert.equal(cluster.partitioned(1), mode);
    await waitGone(1);
    const now = await cluster.flotilladPid(1);
    if (now !== pid) assert.fail(`flotillad restarted during the partition (${pid} -> ${now}); its log ends:\n${await logTail(1)}`);
    assert.ok(await registered(0), 'the other host lost its lease too');
    cluster.heal(1);
    assert.equal(cluster.partitioned(1), undefined);
    await waitBack(1);
  });
}

test('pauseAgent stops flotillad (lease expires), resumeAgent continues the same process', async () => {
  const pid = await cluster.pauseAgent(0);
  assert.equal(await procState(pid), 'running'); // stopped (T) is alive, not a zombie
  assert.match(await readFile(`/proc/${pid}/stat`, 'utf8'), /\) T /);
  await waitGone(0);
  assert.equal(await cluster.resumeAgent(0), true);
  await waitBack(0);
  assert.equal(await cluster.flotilladPid(0), pid);
});

test('killAgent: systemd restarts flotillad under a new PID', async () => {
  const pid = await cluster.killAgent(0);
  const next = await waitFor('a new flotillad', async () => {
    const p = await cluster.flotilladPid(0);
    return p > 0 && p !== pid ? p : undefined;
  }, { timeoutMs: 10_000 });
  assert.notEqual(next, pid);
  await waitBack(0);
});

test('an etcd member killed and restarted: the agents stay registered throughout', async () => {
  await cluster.killEtcdMember(0);
  const url = cluster.endpoints[0] as string;
  const refused = connect(Number(new URL(url).port), '127.0.0.1');
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.match(err.code ?? '', /^(ECONNREFUSED|ECONNRESET)$/);
  // Two of three members keep quorum; leases keep being renewed through the other proxies.
  const until = Date.now() + (TTL + 1) * 1000;
  while (Date.now() < until) {
    assert.ok(await registered(0) && await registered(1), 'an agent lost its lease with one member down');
    await new Promise((r) => setTimeout(r, 250));
  }
  await cluster.restartEtcdMember(0);
  const health = await fetch(`${url}/health`).then((r) => r.json()) as { health: string };
  assert.equal(health.health, 'true');
});

test('down leaves no process, proxy port or cgroup behind', async () => {
  const ports = [];
  for (const h of cluster.hosts) {
    const conf = await readFile(h.configPath, 'utf8');
    ports.push(...(/^etcd_servers=(.*)$/m.exec(conf)?.[1]?.split(',') ?? []).map((u) => Number(new URL(u).port)));
  }
  cluster.partition(0); // teardown must not hang on a held connection
  await cluster.pauseAgent(1); // nor on a stopped process
  registry.etcd.close();
  await cluster.down();
  assert.deepEqual(await liveProcsMentioning([dir]), []);
  assert.deepEqual(await existing(cluster.hosts.flatMap((h) => h.cgroupPaths)), []);
  for (const port of ports) {
    const s = connect(port, '127.0.0.1');
    const [e] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'ECONNREFUSED', `proxy port ${port} still open`);
  }
});
