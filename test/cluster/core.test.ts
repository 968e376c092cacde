/**
 * The vertical slice on a real cluster: real etcd, three real systemd --user
 * hosts, flotillad running as a service of each host's systemd, and the
 * flotctl binary. Every claim is checked on the hosts' own systemd.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostIndexOf, hostUnit, hostsRunning } from '../support/hosts.js';

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

before(async () => {
  const dir = await mkdtemp('/tmp/fl-core-');
  cluster = await LocalCluster.start({ dir, hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
  await writeFile(join(work, 'hello.service'), '[Unit]\nDescription=Hello from Flotilla\n\n[Service]\nExecStart=/bin/sleep infinity\n');
  await writeFile(join(work, 'broken.service'), '[Unit]\nDescription=broken\n[Service]\nExecStart /bin/true\n');
});

after(async () => {
  await cluster?.down();
});

async function unitFilesSnapshot(): Promise<string> {
  const r = await flotctl(env, ['list-unit-files', '--no-legend', '--fields', 'unit,hash,dstate']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('list-machines shows the three hosts', async () => {
  const r = await flotctl(env, ['list-machines', '--no-legend', '-l']);
  assert.equal(r.code, 0, r.stderr);
  const ids = rows(r.stdout).map((row) => row[0]);
  assert.deepEqual(ids, cluster.hosts.map((h) => h.machineId).sort());
});

test('start: the unit runs under systemd on exactly one host', async () => {
  const r = await flotctl(env, ['start', join(work, 'hello.service')], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const m = /Unit hello\.service launched on ([0-9a-f]{8})\.\.\.\/(127\.\d+\.\d+\.\d+)/.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout}`);
  const host = cluster.hosts.findIndex((h) => h.machineId.startsWith(m[1] as string));
  assert.ok(host >= 0);
  assert.equal(cluster.hosts[host]?.publicIP, m[2]);
  const state = await hostUnit(cluster, host, 'hello.service');
  assert.equal(state.active, 'active');
  assert.equal(state.sub, 'running');
  assert.ok(state.mainPid > 0);
  assert.deepEqual(await hostsRunning(cluster, 'hello.service'), [host]);

  const list = await flotctl(env, ['list-units', '--no-legend']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(rows(list.stdout), [['hello.service', `${m[1]}.../${m[2]}`, 'active', 'running']]);
});

test('stop: the unit is inactive/dead on its host and stays loaded', async () => {
  const before = rows((await flotctl(env, ['list-units', '--no-legend', '-l', '--fields', 'unit,machine'])).stdout);
  const machineId = (before[0]?.[1] ?? '').split('/')[0] ?? '';
  const host = hostIndexOf(cluster, machineId);
  assert.ok(host >= 0, `no host for ${machineId}`);
  const r = await flotctl(env, ['stop', 'hello.service']);
  assert.equal(r.code, 0, r.stderr);
  const state = await hostUnit(cluster, host, 'hello.service');
  assert.equal(state.active, 'inactive');
  assert.equal(state.sub, 'dead');
  assert.equal(state.load, 'loaded');
  const list = rows((await flotctl(env, ['list-units', '--no-legend'])).stdout);
  assert.deepEqual(list.map((row) => [row[0], row[2], row[3]]), [['hello.service', 'inactive', 'dead']]);
});

test('unload: the unit leaves its host', async () => {
  const r = await flotctl(env, ['unload', 'hello.service']);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('hello.service gone from every host', async () => {
    const states = await Promise.all(cluster.hosts.map((_, i) => hostUnit(cluster, i, 'hello.service')));
    return states.every((s) => s.load === 'not-found') ? true : undefined;
  }, { timeoutMs: 5000 });
  const list = await flotctl(env, ['list-units', '--no-legend']);
  assert.equal(list.stdout.trim(), '');
  const files = rows(await unitFilesSnapshot());
  assert.deepEqual(files.map((row) => [row[0], row[2]]), [['hello.service', 'inactive']]);
});

test('destroy: a running unit is stopped, removed from its host and from the cluster', async () => {
  const start = await flotctl(env, ['start', 'hello.service']);
  assert.equal(start.code, 0, start.stderr);
  const [host] = await hostsRunning(cluster, 'hello.service');
  assert.ok(host !== undefined);
  const r = await flotctl(env, ['destroy', 'hello.service']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Destroyed hello\.service/);
  await waitFor('hello.service unloaded', async () => ((await hostUnit(cluster, host, 'hello.service')).load === 'not-found' ? true : undefined), { timeoutMs: 5000 });
  assert.equal((await unitFilesSnapshot()).trim(), '');
});

test('bad input: malformed unit file, bad name, unknown command: one line, non-zero, nothing changed', async () => {
  await flotctl(env, ['submit', join(work, 'hello.service')], { cwd: work });
  const before = await unitFilesSnapshot();
  const cases: Array<{ args: string[]; pattern: RegExp }> = [
    { args: ['start', join(work, 'broken.service')], pattern: /line 4/ },
    { args: ['submit', 'bad*name.service'], pattern: /bad\*name\.service/ },
    { args: ['frobnicate'], pattern: /frobnicate/ },
  ];
  for (const c of cases) {
    const r = await flotctl(env, c.args, { cwd: work });
    assert.notEqual(r.code, 0, `${c.args.join(' ')} exited 0`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${c.args.join(' ')} printed ${lines.length} lines: ${r.stderr}`);
    assert.match(lines[0] ?? '', c.pattern);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  }
  assert.equal(await unitFilesSnapshot(), before);
  await flotctl(env, ['destroy', 'hello.service']);
});

test('one unit never holds back another: of one batch, the units that can run start; each one that cannot fails alone, with its reason in list-units and why', async () => {
  const host = 1;
  const pin = `\n[X-Fleet]\nMachineID=${cluster.hosts[host]?.machineId}\n`;
  const longest = `${'l'.repeat(247)}.service`; // 255 bytes, systemd's limit: overflowed the agent's temp file name before
  const units: Record<string, string> = {
    [longest]: `[Service]\nExecStart=/bin/sleep infinity\n${pin}`,
    'plain-a.service': `[Service]\nExecStart=/bin/sleep infinity\n${pin}`,
    'pre-fails.service': `[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep infinity\n${pin}`,
    'no-exec.service': `[Unit]\nDescription=systemd refuses a service without ExecStart\n[Service]\nType=simple\n${pin}`,
  };
  for (const [name, text] of Object.entries(units)) await writeFile(join(work, name), text);
  const names = Object.keys(units);
  // One command, one round, one batch on the pinned host.
  const r = await flotctl(env, ['start', ...names], { cwd: work });
  assert.notEqual(r.code, 0, 'start of units that cannot run exited 0');
  // Which failures the one-line error names depends on which wait saw its reason first.
  assert.match(r.stderr, /unit (pre-fails|no-exec)\.service failed on [0-9a-f]{8}\.\.\.\/[\d.]+: /);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  for (const ok of [longest, 'plain-a.service']) assert.equal((await hostUnit(cluster, host, ok)).active, 'active', ok);

  type Row = { unit: string; active: string; failure: string | null };
  const byUnit = await waitFor('both failures reported', async () => {
    const list = await flotctl(env, ['--json', 'list-units', '--fields', 'unit,active,failure']);
    assert.equal(list.code, 0, list.stderr);
    const m = new Map((JSON.parse(list.stdout) as Row[]).map((u) => [u.unit, { active: u.active, failure: u.failure }] as const));
    return m.get('pre-fails.service')?.failure && m.get('no-exec.service')?.failure ? m : undefined;
  }, { timeoutMs: 10_000 });
  assert.deepEqual(byUnit.get(longest), { active: 'active', failure: null });
  assert.deepEqual(byUnit.get('plain-a.service'), { active: 'active', failure: null });
  const table = new Map(rows((await flotctl(env, ['list-units', '--no-legend', '--fields', 'unit,active'])).stdout).map((row) => [row[0], row[1]] as const));
  for (const n of names) assert.equal(table.get(n), n === 'pre-fails.service' || n === 'no-exec.service' ? 'failed' : 'active', n);
  assert.deepEqual(byUnit.get('pre-fails.service'), { active: 'failed', failure: 'systemd\'s start job ended "failed" (unit result "exit-code"): ExecStartPre=/bin/false exited with status 1' });
  assert.equal(byUnit.get('no-exec.service')?.active, 'failed');
  assert.match(byUnit.get('no-exec.service')?.failure ?? '', /no-exec\.service/);

  const why = await flotctl(env, ['why', 'no-exec.service']);
  assert.equal(why.code, 0, why.stderr);
  assert.match(why.stdout, /^Unit no-exec\.service is placed on [0-9a-f]{8}\.\.\.\/[\d.]+ but failed there: .+ \(desired launched, current launched, systemd /);
  const whyJson = JSON.parse((await flotctl(env, ['--json', 'why', 'pre-fails.service'])).stdout) as { machines: Array<{ failure?: string }> };
  assert.equal(whyJson.machines[0]?.failure, 'systemd\'s start job ended "failed" (unit result "exit-code"): ExecStartPre=/bin/false exited with status 1');

  const destroy = await flotctl(env, ['destroy', ...names]);
  assert.equal(destroy.code, 0, destroy.stderr);
  await waitFor('the batch\'s units gone from their host', async () => {
    const states = await Promise.all(names.map((n) => hostUnit(cluster, host, n)));
    return states.every((s) => s.load === 'not-found') ? true : undefined;
  }, { timeoutMs: 10_000 });
});
