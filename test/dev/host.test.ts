import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHost, killHost, systemctl, type HostProcess } from '../../src/dev/host.js';
import { isRunning } from '../../src/dev/procs.js';
import { waitFor } from '../../src/util/deadline.js';
import { existing, liveProcsMentioning } from './leftovers.js';

const X_UNIT = '[Service]\nExecStart=/bin/sleep infinity\n';

let dir = '';
const hosts: HostProcess[] = [];

async function mainPid(h: HostProcess, unit: string): Promise<number> {
  const r = await systemctl(h, ['show', '-p', 'MainPID', '--value', unit]);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

async function activeState(h: HostProcess, unit: string): Promise<string> {
  return (await systemctl(h, ['is-active', unit])).stdout.trim();
}

before(async () => {
  dir = await mkdtemp('/tmp/fl-');
  const t = Date.now();
  hosts.push(...(await Promise.all([
    startHost({ dir: join(dir, 'h1'), name: 'host1' }),
    startHost({ dir: join(dir, 'h2'), name: 'host2' }),
  ])));
  console.log(`# two hosts started in ${Date.now() - t} ms`);
});

after(async () => {
  for (const h of hosts) await killHost(h).catch((err: unknown) => console.error(err));
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the same unit name runs independently on two hosts', async () => {
  const [h1, h2] = hosts as [HostProcess, HostProcess];
  for (const h of [h1, h2]) {
    await writeFile(join(h.configDir, 'systemd', 'user', 'x.service'), X_UNIT);
    assert.equal((await systemctl(h, ['daemon-reload'])).code, 0);
    const r = await systemctl(h, ['start', 'x.service']);
    assert.equal(r.code, 0, r.stderr);
  }
  const pid1 = await mainPid(h1, 'x.service');
  const pid2 = await mainPid(h2, 'x.service');
  assert.ok(pid1 > 0 && pid2 > 0 && pid1 !== pid2, `two distinct sleeps: ${pid1} ${pid2}`);

  assert.equal((await systemctl(h1, ['stop', 'x.service'])).code, 0);
  await waitFor('x.service on host1 to die', async () => ((await isRunning(pid1)) ? undefined : true), { timeoutMs: 5_000 });
  assert.equal(await activeState(h1, 'x.service'), 'inactive');
  assert.equal(await activeState(h2, 'x.service'), 'active');
  assert.equal(await mainPid(h2, 'x.service'), pid2);
  assert.ok(await isRunning(pid2), 'x.service on host2 still running');
});

test('killHost leaves no process, cgroup, socket or dbus-daemon behind', async () => {
  const h2 = hosts[1] as HostProcess;
  const r = await systemctl(h2, ['start', 'x.service']);
  assert.equal(r.code, 0, r.stderr);
  const unitPid = await mainPid(h2, 'x.service');
  assert.ok(unitPid > 0);
  const sliceName = h2.cgroupPaths[0]?.split('/').pop() ?? '';
  assert.ok(sliceName.startsWith('flotilla-host2-'));
  const before = await liveProcsMentioning([h2.dir, sliceName]);
  // dbus-daemon, systemd, its stock dbus.service, x.service at least.
  assert.ok(before.length >= 4, JSON.stringify(before));

  await killHost(h2);

  for (const pid of [h2.systemdPid, h2.dbusPid, unitPid]) assert.equal(await isRunning(pid), false, `pid ${pid} still runs`);
  assert.deepEqual(await liveProcsMentioning([h2.dir, sliceName]), []);
  assert.deepEqual(await existing([...h2.cgroupPaths, join(h2.dir, 'run', 'bus'), join(h2.runtimeDir, 'systemd', 'private')]), []);

  // The other host is untouched.
  const h1 = hosts[0] as HostProcess;
  assert.ok(await isRunning(h1.systemdPid));
  assert.equal((await systemctl(h1, ['is-system-running'])).stdout.trim(), 'running');
});
