/**
 * flotctl sync's rolling replace on a real 3-host cluster, watched through
 * every host's own systemd: a changed template of 3 instances is replaced
 * one at a time (--max-parallel 1), each next one only after the previous
 * has been healthy for --min-healthy-time; a replacement that fails to
 * start stops the sync with one line naming the unit, and --auto-revert
 * puts the previous content back and running.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalCluster } from '../../src/dev/cluster.js';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { HostSystemd } from '../support/host-systemd.js';
import { hostsRunning } from '../support/hosts.js';
import { commitAll, git } from '../support/git.js';

// ExecStartPre keeps each start in `activating` for a moment, so a sampler sees every replacement down.
const web = (version: string): string =>
  `[Unit]\nDescription=web %i ${version}\n\n[Service]\nExecStartPre=/bin/sleep 0.3\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nConflicts=web@*.service\n`;
const api = (version: string): string => `[Unit]\nDescription=api ${version}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
const BROKEN = '[Unit]\nDescription=api broken\n\n[Service]\nExecStartPre=/bin/false\nExecStart=/bin/sleep infinity\n';
const WEBS = ['web@1.service', 'web@2.service', 'web@3.service'];

let cluster: LocalCluster;
let env: Record<string, string>;
let systemd: HostSystemd;
let repo: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-roll-'), hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  systemd = new HostSystemd(cluster, (u) => u.startsWith('web@') || u.startsWith('api') || u.startsWith('db'));
  repo = await mkdtemp('/tmp/fl-roll-repo-');
  git(repo, 'init', '-q', '-b', 'main');
});

after(async () => {
  systemd?.close();
  await cluster?.down();
  if (repo) await rm(repo, { recursive: true, force: true });
});

/** Where each unit runs and what systemd says of it there (Description, when it last became active, in µs of the shared monotonic clock). */
async function shown(unit: string): Promise<{ host: number; description: string; activeSinceUs: number }> {
  const hosts = await hostsRunning(cluster, unit);
  assert.equal(hosts.length, 1, `${unit} runs on exactly one host: ${JSON.stringify(hosts)}`);
  const host = hosts[0] as number;
  const r = await cluster.systemctl(host, ['show', '-p', 'Description,ActiveEnterTimestampMonotonic', unit]);
  const props = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { host, description: props.Description ?? '', activeSinceUs: Number(props.ActiveEnterTimestampMonotonic ?? 0) };
}

async function hashes(): Promise<Map<string, string>> {
  const list = rows((await flotctl(env, ['list-unit-files', '--no-legend', '--full', '--fields', 'unit,hash'])).stdout);
  return new Map(list.map(([u, h]) => [u as string, h as string]));
}

test('a changed template of 3 instances rolls one at a time, each after the previous was healthy for --min-healthy-time', async () => {
  const dir = join(repo, 'web');
  await mkdir(dir);
  await writeFile(join(dir, 'web@.service'), web('v1'));
  for (const u of WEBS) await symlink('web@.service', join(dir, u));
  commitAll(repo);
  const first = await flotctl(env, ['sync', dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);

  await writeFile(join(dir, 'web@.service'), web('v2'));
  commitAll(repo);
  // Sample every host's systemd while the sync runs: how many instances are not active anywhere.
  let syncing = true;
  let samples = 0;
  let maxDown = 0;
  let worst = '';
  const sampler = (async () => {
    while (syncing) {
      const views = await systemd.viewAll();
      if (views.some((v) => v.running === undefined)) continue;
      const down = WEBS.filter((u) => !views.some((v) => v.running?.get(u)?.active === 'active'));
      samples++;
      if (down.length > maxDown) {
        maxDown = down.length;
        worst = `${down.join(', ')} down at once`;
      }
    }
  })();
  const r = await flotctl(env, ['sync', '--max-parallel', '1', '--min-healthy-time', '2s', '--healthy-deadline', '1m', dir], { timeoutMs: 120_000 }).finally(() => void (syncing = false));
  await sampler;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(samples > 20, `sampled every host ${samples} times`);
  assert.equal(maxDown, 1, `at most one replaced instance down at a time, and the sampler saw one (${worst || 'none seen'})`);
  for (const u of WEBS) assert.match(r.stdout, new RegExp(`Unit ${u.replace(/[.@]/g, '\\$&')} healthy`), r.stdout);

  const newHash = UnitFile.parse(web('v2')).hash();
  const now = await hashes();
  for (const u of WEBS) assert.equal(now.get(u), newHash, `${u} is on the new content`);
  const seen = await Promise.all(WEBS.map(shown));
  for (const s of seen) assert.match(s.description, / v2$/);
  // The replacements were paced: each became active at least min-healthy-time after the one before.
  const starts = seen.map((s) => s.activeSinceUs).sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) {
    const gapMs = ((starts[i] as number) - (starts[i - 1] as number)) / 1000;
    assert.ok(gapMs >= 2000, `replacement ${i + 1} started ${gapMs} ms after replacement ${i}: the gate is 2s`);
  }
});

test('a replacement that fails to start stops the sync naming the unit; --auto-revert puts the previous content back', async () => {
  const dir = join(repo, 'api');
  await mkdir(dir);
  await writeFile(join(dir, 'api.service'), api('v1'));
  commitAll(repo);
  const first = await flotctl(env, ['sync', dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);

  await writeFile(join(dir, 'api.service'), BROKEN);
  commitAll(repo);
  const broken = await flotctl(env, ['sync', '--min-healthy-time', '1s', '--healthy-deadline', '30s', dir], { timeoutMs: 90_000 });
  assert.equal(broken.code, 1, broken.stdout + broken.stderr);
  assert.equal(broken.stderr.trim().split('\n').length, 1, broken.stderr);
  assert.match(broken.stderr, /rollout stopped: api\.service: failed to start; rollout stopped\n?$/);
  assert.equal((await hashes()).get('api.service'), UnitFile.parse(BROKEN).hash(), 'without --auto-revert the new content stays');

  // Back to a good version, then break it again, this time with --auto-revert.
  await writeFile(join(dir, 'api.service'), api('v2'));
  commitAll(repo);
  const fixed = await flotctl(env, ['sync', '--min-healthy-time', '1s', dir], { timeoutMs: 90_000 });
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.match((await shown('api.service')).description, /api v2/);

  await writeFile(join(dir, 'api.service'), BROKEN);
  commitAll(repo);
  const reverted = await flotctl(env, ['sync', '--min-healthy-time', '1s', '--healthy-deadline', '30s', '--auto-revert', dir], { timeoutMs: 90_000 });
  assert.equal(reverted.code, 1, reverted.stdout + reverted.stderr);
  assert.equal(reverted.stderr.trim().split('\n').length, 1, reverted.stderr);
  assert.match(reverted.stderr, /rollout stopped: api\.service: failed to start; rollout stopped, previous content put back/);
  assert.equal((await hashes()).get('api.service'), UnitFile.parse(api('v2')).hash(), 'the previous content is back');
  await waitFor('api.service runs its previous content again', async () => ((await hostsRunning(cluster, 'api.service')).length === 1 ? true : undefined), { timeoutMs: 30_000 });
  assert.match((await shown('api.service')).description, /api v2/);
  // The tree still says "broken": diff sees the difference the revert left.
  assert.equal((await flotctl(env, ['diff', dir])).code, 1);
});
