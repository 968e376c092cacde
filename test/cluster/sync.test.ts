/**
 * flotctl sync of a real git repository onto a real 3-host cluster, checked
 * on each host's own systemd: services, a template with 3 instance symlinks
 * and a global unit; diff's exit codes; a replace followed to health; prune
 * removing exactly the source's removed units while a hand-started unit runs
 * on untouched; the empty-source, dirty-tree and conflict refusals.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { HostSystemd } from '../support/host-systemd.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';
import { commitAll, git } from '../support/git.js';

const API = '[Unit]\nDescription=api\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const API2 = '[Unit]\nDescription=api, second version\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const WEB = '[Unit]\nDescription=web %i\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nConflicts=web@*.service\n';
const AGENT = '[Unit]\nDescription=on every host\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n';
const JOB = '[Service]\nType=oneshot\nExecStart=/bin/true\n';
const HAND = '[Service]\nExecStart=/bin/sleep infinity\n';
const OURS = ['api.service', 'web@1.service', 'web@2.service', 'web@3.service', 'agent.service', 'job.service', 'hand.service'];


let cluster: LocalCluster;
let env: Record<string, string>;
let systemd: HostSystemd;
let repo: string;
let units: string;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-sync-'), hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  systemd = new HostSystemd(cluster, (u) => OURS.includes(u));
  repo = await mkdtemp('/tmp/fl-sync-repo-');
  work = await mkdtemp('/tmp/fl-sync-hand-');
  git(repo, 'init', '-q', '-b', 'main');
  await mkdir(join(repo, 'units'));
  units = join(repo, 'units');
  await writeFile(join(units, 'api.service'), API);
  await writeFile(join(units, 'web@.service'), WEB);
  for (const i of [1, 2, 3]) await symlink('web@.service', join(units, `web@${i}.service`));
  await writeFile(join(units, 'agent.service'), AGENT);
  await writeFile(join(units, 'job.service'), JOB);
  await writeFile(join(repo, 'README.md'), 'not a unit\n');
  commitAll(repo);
});

after(async () => {
  systemd?.close();
  await cluster?.down();
  for (const d of [repo, work]) if (d) await rm(d, { recursive: true, force: true });
});

/** Host indexes running each of our units, from every host's own systemd at once. */
async function running(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const v of await systemd.viewAll()) {
    assert.ok(v.running, `host ${v.host + 1}: ${v.error}`);
    for (const [unit, seen] of v.running) if (seen.active === 'active') out.set(unit, [...(out.get(unit) ?? []), v.host]);
  }
  return out;
}

test('sync of a repository: services, 3 instances of a template, a global unit and a oneshot run where Flotilla says', async () => {
  const d = await flotctl(env, ['diff', units]);
  assert.equal(d.code, 1, d.stderr);
  const r = await flotctl(env, ['sync', units]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const u of ['api.service', 'web@1.service', 'web@2.service', 'web@3.service', 'agent.service', 'job.service']) {
    assert.match(r.stdout, new RegExp(`Unit ${u.replace(/[.@]/g, '\\$&')} healthy: `), r.stdout);
  }
  const seen = await running();
  assert.equal(seen.get('api.service')?.length, 1);
  assert.deepEqual(seen.get('agent.service'), [0, 1, 2], 'the global unit runs on every host');
  const webHosts = [1, 2, 3].map((i) => seen.get(`web@${i}.service`) ?? []);
  assert.ok(webHosts.every((h) => h.length === 1), JSON.stringify(webHosts));
  assert.equal(new Set(webHosts.flat()).size, 3, 'Conflicts spreads the instances');
  // The oneshot ran and exited with success on its host.
  const job = await Promise.all(cluster.hosts.map((_, i) => hostUnit(cluster, i, 'job.service')));
  assert.equal(job.filter((s) => s.load === 'loaded').length, 1);
  assert.ok(job.every((s) => s.active !== 'failed'));
  // And Flotilla agrees with the hosts.
  const list = rows((await flotctl(env, ['list-units', '--no-legend', '--fields', 'unit,active'])).stdout);
  assert.equal(list.filter(([u, a]) => u === 'agent.service' && a === 'active').length, 3);
  const again = await flotctl(env, ['diff', units]);
  assert.equal(again.code, 0, again.stdout);
});

test('a changed unit is rolled out and followed until healthy; diff exits 2 on a broken tree', async () => {
  const [host] = await hostsRunning(cluster, 'api.service');
  assert.ok(host !== undefined);
  await writeFile(join(units, 'api.service'), API2);
  commitAll(repo);
  const d = await flotctl(env, ['diff', units]);
  assert.equal(d.code, 1);
  assert.match(d.stdout, /-Description=api\n\+Description=api, second version/);
  const r = await flotctl(env, ['sync', '--min-healthy-time', '1s', units]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /~ replace api\.service/);
  // A running unit with new content is rolled by the engine; the sync follows its record.
  assert.match(r.stdout, /Unit api\.service healthy: replaced; healthy for 1s/);
  const now = await hostsRunning(cluster, 'api.service');
  assert.equal(now.length, 1);
  const desc = await cluster.systemctl(now[0] as number, ['show', '-p', 'Description', 'api.service']);
  assert.match(desc.stdout, /Description=api, second version/);

  await writeFile(join(units, 'broken.service'), '[Service]\nExecStart /bin/true\n');
  const bad = await flotctl(env, ['diff', units]);
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /broken\.service: unit file line 2/);
  await unlink(join(units, 'broken.service'));
});

test('prune removes exactly the removed units of the source; a hand-started unit runs on; dirty, empty and conflicting syncs refuse', async () => {
  await writeFile(join(work, 'hand.service'), HAND);
  const h = await flotctl(env, ['start', join(work, 'hand.service')]);
  assert.equal(h.code, 0, h.stderr);
  const [handHost] = await hostsRunning(cluster, 'hand.service');
  assert.ok(handHost !== undefined);
  const handPid = (await hostUnit(cluster, handHost, 'hand.service')).mainPid;

  // Dirty: refused, nothing changed.
  await unlink(join(units, 'web@3.service'));
  const dirty = await flotctl(env, ['sync', '--prune', units]);
  assert.equal(dirty.code, 1);
  assert.match(dirty.stderr, /differs from its commit .*web@3\.service.*--allow-dirty/);
  assert.equal((await hostsRunning(cluster, 'web@3.service')).length, 1);

  // Committed: pruned from its host, and nothing else moved.
  commitAll(repo);
  const before = await running();
  const r = await flotctl(env, ['sync', '--prune', units]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /- destroy web@3\.service/);
  await waitFor('web@3.service gone from every host', async () => ((await running()).has('web@3.service') ? undefined : true), { timeoutMs: 10_000 });
  const after = await running();
  before.delete('web@3.service');
  assert.deepEqual([...after.entries()].sort(), [...before.entries()].sort(), 'every other unit runs where it ran');
  assert.equal((await hostUnit(cluster, handHost, 'hand.service')).mainPid, handPid, 'the hand-started unit was not restarted');

  // A second directory of the repository is a second source; taking the first one's unit is a conflict naming both.
  await mkdir(join(repo, 'other'));
  await writeFile(join(repo, 'other', 'api.service'), API2);
  commitAll(repo);
  const conflict = await flotctl(env, ['sync', join(repo, 'other')]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /api\.service belongs to source .*:units, not to .*:other/);

  // Emptying the directory would destroy everything the source owns: refused.
  for (const u of ['api.service', 'web@.service', 'web@1.service', 'web@2.service', 'agent.service', 'job.service']) await unlink(join(units, u));
  commitAll(repo);
  const empty = await flotctl(env, ['sync', '--prune', units]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /would destroy all 6 units of source .*--allow-empty/);
  assert.equal((await hostsRunning(cluster, 'api.service')).length, 1);
  const src = await flotctl(env, ['sources', '--no-legend']);
  // The rollout column keeps the last rollout (api.service's, above); no error.
  assert.match(src.stdout, /:units\s+push\s+6\s+[0-9a-f]{12}\s+succeeded\(1\/1\)\s+-/);
  assert.match((await flotctl(env, ['list-unit-files', '--no-legend', '--fields', 'unit,source'])).stdout, /hand\.service\s+-\n/);
});

test('a unit that fails to start fails the sync, naming it; its write stays (the cluster has it, failed)', async () => {
  const dir = join(repo, 'failing');
  await mkdir(dir);
  // Its start job fails (ExecStartPre), so it is never active: a simple service whose
  // ExecStart exits at once is briefly active, and a created unit counts as healthy once active.
  await writeFile(join(dir, 'fail.service'), '[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep infinity\n');
  commitAll(repo);
  const r = await flotctl(env, ['sync', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Unit fail\.service failed: .*failed/);
  assert.match(r.stderr, /written, but not every unit is healthy: fail\.service: /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const list = rows((await flotctl(env, ['list-unit-files', '--no-legend', '--fields', 'unit,dstate,source'])).stdout);
  assert.ok(list.some(([u, d, s]) => u === 'fail.service' && d === 'launched' && s?.endsWith(':failing')), JSON.stringify(list));
});
