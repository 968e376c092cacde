/**
 * Failures on a real cluster (TTL 3 s): crashes and restarts of flotillad,
 * clean shutdown, loss of the engine, and power loss of a whole host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { engineLeader, hostIndexOf, hostUnit, hostsRunning } from '../support/hosts.js';

const TTL = 3;
let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-fail-'), hosts: 3, ttlSeconds: TTL });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'late']) {
    await writeFile(join(work, `${name}.service`), `[Service]\nExecStart=/bin/sleep infinity\n`);
  }
  const r = await flotctl(env, ['start', ...['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `${n}.service`)], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
});

async function placement(unit: string): Promise<number> {
  return waitFor(`${unit} active on exactly one host`, async () => {
    const on = await hostsRunning(cluster, unit);
    return on.length === 1 ? on[0] : undefined;
  }, { timeoutMs: 10_000 });
}

async function unitsOn(host: number): Promise<string[]> {
  const out: string[] = [];
  for (const u of ['a', 'b', 'c', 'd', 'e', 'f']) {
    if ((await hostUnit(cluster, host, `${u}.service`)).active === 'active') out.push(`${u}.service`);
  }
  return out;
}

test('SIGKILL of flotillad: systemd restarts it and its running units keep their MainPID', async () => {
  const host = await placement('a.service');
  const before = await hostUnit(cluster, host, 'a.service');
  const pid = await cluster.flotilladPid(host);
  assert.ok(pid > 0);
  process.kill(pid, 'SIGKILL');
  await waitFor('flotillad restarted', async () => {
    const p = await cluster.flotilladPid(host);
    return p > 0 && p !== pid ? p : undefined;
  }, { timeoutMs: 10_000 });
  // The restarted agent re-registers and re-publishes; give it until the old lease would have expired.
  await waitFor('machine registered again', async () => {
    const r = await flotctl(env, ['list-machines', '--no-legend', '-l']);
    return r.stdout.includes(cluster.hosts[host]?.machineId ?? '?') ? true : undefined;
  }, { timeoutMs: 10_000 });
  const deadline = Date.now() + (TTL + 1) * 1000;
  while (Date.now() < deadline) {
    const now = await hostUnit(cluster, host, 'a.service');
    assert.equal(now.active, 'active');
    assert.equal(now.mainPid, before.mainPid, 'unit was restarted');
    assert.deepEqual(await hostsRunning(cluster, 'a.service'), [host], 'a second copy appeared');
    await new Promise((r) => setTimeout(r, 250));
  }
});

test('SIGTERM of flotillad: its units stop there and run elsewhere', async () => {
  const host = await placement('b.service');
  const mine = await unitsOn(host);
  assert.ok(mine.length > 0);
  const pid = await cluster.flotilladPid(host);
  process.kill(pid, 'SIGTERM');
  await waitFor('flotillad exited', async () => ((await cluster.flotilladPid(host)) === 0 ? true : undefined), { timeoutMs: 10_000 });
  for (const unit of mine) {
    assert.equal((await hostUnit(cluster, host, unit)).active, 'inactive', `${unit} still active on the stopped host`);
    const now = await placement(unit);
    assert.notEqual(now, host);
  }
  const r = await cluster.systemctl(host, ['start', 'flotillad.service']);
  assert.equal(r.code, 0, r.stderr);
});

test('stopping the engine: another engine takes over and places a new unit', async () => {
  const leader = await waitFor('an engine leader', () => engineLeader(cluster), { timeoutMs: 10_000 });
  const host = hostIndexOf(cluster, leader);
  assert.ok(host >= 0);
  const r = await cluster.systemctl(host, ['stop', 'flotillad.service']);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('a new engine leader', async () => {
    const l = await engineLeader(cluster);
    return l && l !== leader ? l : undefined;
  }, { timeoutMs: (TTL + 2) * 1000 });
  const start = await flotctl(env, ['start', 'late.service'], { cwd: work });
  assert.equal(start.code, 0, start.stderr);
  const on = await placement('late.service');
  assert.notEqual(on, host);
  assert.equal((await cluster.systemctl(host, ['start', 'flotillad.service'])).code, 0);
});

test('power loss of the engine host: its units are active elsewhere within TTL + 2 s', async () => {
  // Wait for the restarted host to be back in the cluster first.
  await waitFor('three machines', async () => {
    const r = await flotctl(env, ['list-machines', '--no-legend']);
    return r.stdout.trim().split('\n').length === 3 ? true : undefined;
  }, { timeoutMs: 10_000 });
  const leader = await waitFor('an engine leader', () => engineLeader(cluster), { timeoutMs: 10_000 });
  const host = hostIndexOf(cluster, leader);
  const mine = await unitsOn(host);
  // Least-loaded placement of 7 units on 3 hosts puts work on every host.
  assert.ok(mine.length > 0, 'the engine host runs none of the units');
  const others = cluster.hosts.map((_, i) => i).filter((i) => i !== host);
  const killedAt = Date.now();
  await cluster.killHost(host);
  for (const unit of ['a', 'b', 'c', 'd', 'e', 'f', 'late'].map((u) => `${u}.service`)) {
    await waitFor(`${unit} active on a surviving host`, async () => {
      const on = await hostsRunning(cluster, unit, others);
      return on.length === 1 ? true : undefined;
    }, { timeoutMs: Math.max(1, (TTL + 2) * 1000 - (Date.now() - killedAt)) });
  }
});
