/**
 * SIGHUP on a real cluster: flotillad reads its config again and publishes
 * changed metadata without restarting and without touching units; the
 * engine then places (and moves) units by the new metadata. What cannot
 * change without a restart is named; a config that no longer loads changes
 * nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-reload-'), hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
  await writeFile(join(work, 'plain.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
  await writeFile(join(work, 'web.service'), '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineMetadata=role=web\n');
});

after(async () => {
  await cluster?.down();
});

/** Rewrite one key of host i's config file. */
async function setConfig(i: number, key: string, value: string): Promise<void> {
  const path = cluster.hosts[i]?.configPath as string;
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l && !l.startsWith(`${key}=`));
  await writeFile(path, [...lines, `${key}=${value}`, ''].join('\n'));
}

/** SIGHUP host i's flotillad and wait until its log reports the reload (by its `n`-th SIGHUP line). */
async function hangUp(i: number): Promise<string> {
  const log = cluster.hosts[i]?.logPath as string;
  const seen = (await readFile(log, 'utf8')).split('SIGHUP:').length;
  process.kill(await cluster.flotilladPid(i), 'SIGHUP');
  return waitFor(`host ${i} to reload`, async () => {
    const text = await readFile(log, 'utf8');
    return text.split('SIGHUP:').length > seen ? text.split('\n').filter((l) => l.includes('SIGHUP:')).pop() : undefined;
  }, { timeoutMs: 10_000 });
}

async function onlyOn(unit: string, host: number): Promise<true | undefined> {
  const on = await hostsRunning(cluster, unit);
  return on.length === 1 && on[0] === host ? true : undefined;
}

test('SIGHUP publishes new metadata: units are placed and moved by it; flotillad and other units are untouched', async () => {
  const start = await flotctl(env, ['start', 'plain.service'], { cwd: work });
  assert.equal(start.code, 0, start.stderr);
  const plainHost = (await hostsRunning(cluster, 'plain.service'))[0] as number;
  const plainPid = (await hostUnit(cluster, plainHost, 'plain.service')).mainPid;
  const web = await flotctl(env, ['start', '--no-block', 'web.service'], { cwd: work });
  assert.equal(web.code, 0, web.stderr);
  // No machine has role=web yet.
  await waitFor('web.service to be reported unplaceable', async () => {
    const why = await flotctl(env, ['why', 'web.service']);
    return /role=web/.test(why.stdout + why.stderr) ? true : undefined;
  }, { timeoutMs: 20_000 });
  assert.deepEqual(await hostsRunning(cluster, 'web.service'), []);

  const a = (plainHost + 1) % 3;
  const b = (plainHost + 2) % 3;
  const pids = await Promise.all([0, 1, 2].map((i) => cluster.flotilladPid(i)));
  await setConfig(a, 'metadata', `hostname=${cluster.hosts[a]?.name},role=web`);
  assert.match(await hangUp(a), /SIGHUP: configuration reloaded .*applied=\["metadata"\] needRestart=\[\]/);
  await waitFor(`web.service on host ${a}`, () => onlyOn('web.service', a), { timeoutMs: 20_000 });
  const machines = rows((await flotctl(env, ['list-machines', '--no-legend', '-l'])).stdout);
  assert.equal(machines.find((r) => r[0] === cluster.hosts[a]?.machineId)?.[2], `hostname=${cluster.hosts[a]?.name},role=web`);

  // The role moves from a to b: the engine moves the unit with it.
  await setConfig(b, 'metadata', `hostname=${cluster.hosts[b]?.name},role=web`);
  await hangUp(b);
  await setConfig(a, 'metadata', `hostname=${cluster.hosts[a]?.name}`);
  await hangUp(a);
  await waitFor(`web.service moved to host ${b}`, () => onlyOn('web.service', b), { timeoutMs: 30_000 });

  // No flotillad restarted; the unit that did not care was not touched.
  assert.deepEqual(await Promise.all([0, 1, 2].map((i) => cluster.flotilladPid(i))), pids);
  const plain = await hostUnit(cluster, plainHost, 'plain.service');
  assert.equal(plain.active, 'active');
  assert.equal(plain.mainPid, plainPid);
});

test('SIGHUP names settings that need a restart, and a config that does not load changes nothing', async () => {
  const i = 0;
  const pid = await cluster.flotilladPid(i);
  const before = rows((await flotctl(env, ['list-machines', '--no-legend', '-l'])).stdout).find((r) => r[0] === cluster.hosts[i]?.machineId);
  await setConfig(i, 'agent_ttl', '7s');
  const said = await hangUp(i);
  assert.match(said, /WARN flotillad SIGHUP: configuration reloaded; the needRestart settings changed but take effect only when flotillad restarts applied=\[\] needRestart=\["agent_ttl"\]/);

  await setConfig(i, 'metadata', 'region=us#east');
  const refused = await hangUp(i);
  assert.match(refused, /SIGHUP: the config does not load; keeping the running one .*holds \\?"#\\?"/);
  assert.equal(await cluster.flotilladPid(i), pid);
  const after = rows((await flotctl(env, ['list-machines', '--no-legend', '-l'])).stdout).find((r) => r[0] === cluster.hosts[i]?.machineId);
  assert.deepEqual(after, before);
});
