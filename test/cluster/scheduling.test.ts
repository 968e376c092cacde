/**
 * [X-Fleet] placement on a real 3-host cluster (a 4th joins later), through
 * flotctl, checked on the hosts' own systemd.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';

const TTL = 3;
let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

const SLEEP = '[Service]\nExecStart=/bin/sleep infinity\n';

async function unit(name: string, xfleet: string, unitSection = ''): Promise<string> {
  const path = join(work, name);
  await writeFile(path, `${unitSection ? `[Unit]\n${unitSection}\n\n` : ''}${SLEEP}${xfleet ? `\n[X-Fleet]\n${xfleet}\n` : ''}`);
  return path;
}

async function start(...args: string[]): Promise<void> {
  const r = await flotctl(env, ['start', '--no-block', ...args], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
}

async function settled<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  return waitFor(what, check, { timeoutMs: 15_000, intervalMs: 100 });
}

async function destroy(...names: string[]): Promise<void> {
  const r = await flotctl(env, ['destroy', ...names]);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-sched-'), hosts: 3, ttlSeconds: TTL });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
});

after(async () => {
  await cluster?.down();
});

test('five mutually conflicting units on 3 hosts: exactly 3 run, on distinct hosts', async () => {
  const names = ['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => `${n}.service`);
  for (const n of names) await unit(n, 'Conflicts=c*.service');
  await start(...names);
  const running = await settled('3 conflicting units running', async () => {
    const on = await Promise.all(names.map((n) => hostsRunning(cluster, n)));
    const total = on.flat();
    return total.length === 3 ? on : undefined;
  });
  assert.equal(new Set(running.flat()).size, 3, 'two conflicting units share a host');
  assert.ok(running.every((hosts) => hosts.length <= 1));
  await destroy(...names);
});

test('MachineOf: followers go where their peer is, and move with it when its host dies', async () => {
  await unit('ping.service', '');
  await unit('pong.service', 'MachineOf=ping.service');
  await start('ping.service', 'pong.service');
  const host = await settled('ping and pong together', async () => {
    const [ping] = await hostsRunning(cluster, 'ping.service');
    const [pong] = await hostsRunning(cluster, 'pong.service');
    return ping !== undefined && ping === pong ? ping : undefined;
  });
  await cluster.killHost(host);
  const survivors = cluster.hosts.map((_, i) => i).filter((i) => i !== host);
  await settled('ping and pong together elsewhere', async () => {
    const [ping] = await hostsRunning(cluster, 'ping.service', survivors);
    const [pong] = await hostsRunning(cluster, 'pong.service', survivors);
    return ping !== undefined && ping === pong ? true : undefined;
  });
  await destroy('ping.service', 'pong.service');
  await cluster.restartHost(host);
});

test('MachineID pins a unit to one machine (the 8-character short id works too)', async () => {
  const target = cluster.hosts[2]!;
  await unit('pinned.service', `MachineID=${target.machineId.slice(0, 8)}`);
  await start('pinned.service');
  const on = await settled('pinned running', async () => {
    const hosts = await hostsRunning(cluster, 'pinned.service');
    return hosts.length === 1 ? hosts : undefined;
  });
  assert.deepEqual(on, [2]);
  await destroy('pinned.service');
});

test('template instances with MachineMetadata=hostname=%i land on their host; an unknown host fails to start', async () => {
  await writeFile(join(work, 'web@.service'), `${SLEEP}\n[X-Fleet]\nMachineMetadata=hostname=%i\n`);
  await start(join(work, 'web@host1.service'), join(work, 'web@host3.service'));
  await settled('instances on their hosts', async () => {
    const a = await hostsRunning(cluster, 'web@host1.service');
    const b = await hostsRunning(cluster, 'web@host3.service');
    return a.length === 1 && a[0] === 0 && b.length === 1 && b[0] === 2 ? true : undefined;
  });
  const r = await flotctl(env, ['start', '--block-attempts=2', join(work, 'web@nohost.service')], { cwd: work });
  assert.notEqual(r.code, 0, 'start of an unplaceable instance succeeded');
  await destroy('web@host1.service', 'web@host3.service', 'web@nohost.service', 'web@.service');
});

test('a Condition that holds on one host only: the unit lands there', async () => {
  // %h is the host's own HOME for both systemd and the agent, so the marker is per host.
  const target = cluster.hosts[1]!;
  await mkdir(join(target.dir, 'home'), { recursive: true });
  await writeFile(join(target.env.HOME ?? join(target.dir, 'home'), 'kvm-marker'), 'yes\n');
  await unit('needs-kvm.service', '', 'ConditionPathExists=%h/kvm-marker');
  await start('needs-kvm.service');
  const on = await settled('needs-kvm running', async () => {
    const hosts = await hostsRunning(cluster, 'needs-kvm.service');
    return hosts.length === 1 ? hosts : undefined;
  });
  assert.deepEqual(on, [1]);
  await destroy('needs-kvm.service');
});

test('Replaces: the replaced unit is moved to another host', async () => {
  await unit('old.service', '');
  await start('old.service');
  const oldHost = await settled('old running', async () => (await hostsRunning(cluster, 'old.service'))[0]);
  // The replacer may only run where the old unit is, so the old one has to move.
  await unit('new.service', `Replaces=old.service\nMachineMetadata=hostname=${cluster.hosts[oldHost]!.name}`);
  await start('new.service');
  await settled('new on the old host, old moved away', async () => {
    const n = await hostsRunning(cluster, 'new.service');
    const o = await hostsRunning(cluster, 'old.service');
    return n.length === 1 && n[0] === oldHost && o.length === 1 && o[0] !== oldHost ? true : undefined;
  });
  await destroy('new.service', 'old.service');
});

test('a one-way conflict keeps the second unit waiting until the first is destroyed', async () => {
  const hostnames = cluster.hosts.map((h) => h.name);
  // Both may only run on host1; second declares the conflict.
  await unit('first.service', `MachineMetadata=hostname=${hostnames[0]}`);
  await unit('second.service', `MachineMetadata=hostname=${hostnames[0]}\nConflicts=first.service`);
  await start('first.service');
  await settled('first running', async () => ((await hostsRunning(cluster, 'first.service')).length === 1 ? true : undefined));
  await start('second.service');
  const waiting = await flotctl(env, ['list-unit-files', '--no-legend', '--fields', 'unit,target']);
  assert.match(waiting.stdout, /second\.service\s+-/);
  assert.deepEqual(await hostsRunning(cluster, 'second.service'), []);
  await destroy('first.service');
  await settled('second running once first is gone', async () => ((await hostsRunning(cluster, 'second.service')).join() === '0' ? true : undefined));
  await destroy('second.service');
});

test('global units: on every host, on a host that joins later, and never two conflicting ones together', async () => {
  await unit('everywhere.service', 'Global=true');
  await unit('g-a.service', 'Global=true\nConflicts=g-b.service');
  await unit('g-b.service', 'Global=true');
  await start('everywhere.service', 'g-a.service', 'g-b.service');
  await settled('global on all 3 hosts', async () => ((await hostsRunning(cluster, 'everywhere.service')).length === 3 ? true : undefined));
  const joined = await cluster.addHost();
  await settled('global on the new host', async () => ((await hostsRunning(cluster, 'everywhere.service')).includes(joined.index) ? true : undefined));
  const a = await hostsRunning(cluster, 'g-a.service');
  const b = await hostsRunning(cluster, 'g-b.service');
  assert.ok(a.length + b.length > 0);
  assert.deepEqual(a.filter((h) => b.includes(h)), [], 'conflicting global units share a host');
  const list = await flotctl(env, ['list-units', '--no-legend', '--fields', 'unit']);
  assert.equal(list.stdout.split('\n').filter((l) => l.trim() === 'everywhere.service').length, 4);
  await destroy('everywhere.service', 'g-a.service', 'g-b.service');
});
