/**
 * flotctl sync's rolling replace of a global unit on a real 3-host cluster,
 * watched through every host's own systemd (issue 11): with --max-parallel 1
 * the new content reaches one host at a time, the others keep running the
 * old one meanwhile (the engine pins them, src/rollout/pins.ts), and each
 * next host moves only after the one before has been healthy for
 * --min-healthy-time.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalCluster } from '../../src/dev/cluster.js';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';
import { commitAll, git } from '../support/git.js';

// ExecStartPre keeps each start in `activating` for a moment, so a sampler sees each host's replacement.
const g = (version: string): string =>
  `[Unit]\nDescription=g ${version}\n\n[Service]\nExecStartPre=/bin/sleep 0.3\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n`;
const UNIT = 'g.service';

let cluster: LocalCluster;
let env: Record<string, string>;
let repo: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-rollg-'), hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  repo = await mkdtemp('/tmp/fl-rollg-repo-');
  git(repo, 'init', '-q', '-b', 'main');
});

after(async () => {
  await cluster?.down();
  if (repo) await rm(repo, { recursive: true, force: true });
});

/** What each host's systemd has loaded for the unit (its Description names the version), and since when it is active (µs, shared monotonic clock). */
async function onHost(host: number): Promise<{ version: string; active: string; activeSinceUs: number }> {
  const r = await cluster.systemctl(host, ['show', '-p', 'Description,ActiveState,ActiveEnterTimestampMonotonic', UNIT]);
  const props = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { version: (props.Description ?? '').replace(/^g /, ''), active: props.ActiveState ?? '', activeSinceUs: Number(props.ActiveEnterTimestampMonotonic ?? 0) };
}

test('a global unit on 3 hosts rolls host by host: one host on the new content at a time, the others on the old until their turn', async (t) => {
  const dir = join(repo, 'g');
  await mkdir(dir);
  await writeFile(join(dir, UNIT), g('v1'));
  commitAll(repo);
  const first = await flotctl(env, ['sync', dir], { timeoutMs: 90_000 });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  await waitFor('g v1 active on all 3 hosts', async () => ((await hostsRunning(cluster, UNIT)).length === 3 ? true : undefined), { timeoutMs: 30_000 });

  await writeFile(join(dir, UNIT), g('v2'));
  commitAll(repo);
  // Sample every host's systemd while the sync runs: how many hosts have the new content, and how many are not active.
  let syncing = true;
  const counts: number[] = [];
  let maxMoving = 0;
  let worst = '';
  const sampler = (async () => {
    while (syncing) {
      const views = await Promise.all([0, 1, 2].map(onHost));
      const v2 = views.filter((v) => v.version === 'v2').length;
      // A host that has v2 loaded but is not active yet, or was stopped: on its way.
      const moving = views.filter((v) => v.active !== 'active').length;
      counts.push(v2);
      if (moving > maxMoving) {
        maxMoving = moving;
        worst = views.map((v, i) => `host ${i + 1}: ${v.version} ${v.active}`).join(', ');
      }
    }
  })();
  const r = await flotctl(env, ['sync', '--max-parallel', '1', '--min-healthy-time', '1s', '--healthy-deadline', '1m', dir], { timeoutMs: 120_000 }).finally(() => void (syncing = false));
  await sampler;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Unit g\.service healthy/, r.stdout);
  assert.ok(counts.length > 20, `sampled every host ${counts.length} times`);
  assert.ok(maxMoving <= 1, `at most one host replacing at a time (${worst})`);
  // Host by host: the count of hosts on v2 only grows, one at a time, through 1 and 2 (never all at once).
  for (let i = 1; i < counts.length; i++) {
    const [a, b] = [counts[i - 1] as number, counts[i] as number];
    assert.ok(b >= a && b - a <= 1, `hosts on the new content went from ${a} to ${b}: ${counts.join(' ')}`);
  }
  assert.ok(counts.includes(1) && counts.includes(2), `seen with 1 and with 2 hosts on the new content while the others ran the old: ${counts.join(' ')}`);

  const newHash = UnitFile.parse(g('v2')).hash();
  const list = rows((await flotctl(env, ['list-unit-files', '--no-legend', '--full', '--fields', 'unit,hash'])).stdout);
  assert.equal(new Map(list.map(([u, h]) => [u as string, h as string])).get(UNIT), newHash, 'the unit record has the new content');
  const seen = await Promise.all([0, 1, 2].map(onHost));
  for (const s of seen) assert.deepEqual([s.version, s.active], ['v2', 'active']);
  // Paced: each host became active on v2 at least min-healthy-time after the one before.
  const starts = seen.map((s) => s.activeSinceUs).sort((a, b) => a - b);
  const gaps = starts.slice(1).map((s, i) => (s - (starts[i] as number)) / 1000);
  t.diagnostic(`${counts.length} samples; samples with 0/1/2/3 hosts on v2: ${[0, 1, 2, 3].map((n) => counts.filter((c) => c === n).length).join('/')}; gaps between hosts' starts: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  for (const [i, gapMs] of gaps.entries()) assert.ok(gapMs >= 1000, `host ${i + 2} moved ${gapMs} ms after host ${i + 1}: the gate is 1s`);
});

test('a broken content with --auto-revert stops at the first host: the others never get it, and that host gets the previous content back', async () => {
  const dir = join(repo, 'g');
  await writeFile(join(dir, UNIT), g('broken').replace('ExecStartPre=/bin/sleep 0.3', 'ExecStartPre=/bin/false'));
  commitAll(repo);
  let syncing = true;
  let maxBroken = 0;
  const sampler = (async () => {
    while (syncing) {
      const views = await Promise.all([0, 1, 2].map(onHost));
      maxBroken = Math.max(maxBroken, views.filter((v) => v.version === 'broken').length);
    }
  })();
  const r = await flotctl(env, ['sync', '--max-parallel', '1', '--min-healthy-time', '1s', '--healthy-deadline', '30s', '--auto-revert', dir], { timeoutMs: 90_000 }).finally(() => void (syncing = false));
  await sampler;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /rollout stopped: g\.service: failed to start on [0-9a-f]{12}; rollout stopped, previous content put back/);
  assert.equal(maxBroken, 1, 'only the first host ever loaded the broken content');
  await waitFor('g v2 active again on all 3 hosts', async () => {
    const views = await Promise.all([0, 1, 2].map(onHost));
    return views.every((v) => v.version === 'v2' && v.active === 'active') ? true : undefined;
  }, { timeoutMs: 30_000 });
});
