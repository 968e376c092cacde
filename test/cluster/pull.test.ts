/**
 * Pull mode on a real 3-host cluster against a real `git daemon` on
 * loopback: `flotctl source add` stores the definition, the elected engine
 * fetches the repository and applies each pushed commit exactly once (unit
 * records written once per change, checked by their etcd version; what runs
 * checked on the hosts' systemd), and a fetch failure changes nothing but
 * the source's error.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { waitFor } from '../../src/util/deadline.js';
import { type GitDaemon, PushedRepo, startGitDaemon } from '../gitops/git-server.js';
import { flotctl } from '../support/flotctl.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';

const A1 = '[Unit]\nDescription=pulled a, first\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const A2 = '[Unit]\nDescription=pulled a, second\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const B = '[Unit]\nDescription=pulled b\n\n[Service]\nExecStart=/bin/sleep infinity\n';
// flotctl source add refuses intervals under 5s (src/client/sources/sources.ts).
const INTERVAL = '5s';
const INTERVAL_MS = 5000;

let cluster: LocalCluster;
let env: Record<string, string>;
let daemon: GitDaemon | undefined;
let repo: PushedRepo;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-pull-'), hosts: 3, ttlSeconds: 5 });
  env = cluster.flotctlEnv();
  daemon = await startGitDaemon();
  repo = await PushedRepo.create(daemon, 'infra');
});

after(async () => {
  await daemon?.stop();
  await cluster?.down();
});

interface SourceRow {
  name: string;
  commit: { commit: string | null } | null;
  rollout: { state: string } | null;
  error: { message: string } | null;
}

async function source(name: string): Promise<SourceRow | undefined> {
  const r = await flotctl(env, ['--json', 'sources', '--fields', 'name,commit,rollout,error']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as SourceRow[]).find((s) => s.name === name);
}

/** How many times each unit record was written since it was created (etcd's per-key version), and its last write's revision. */
async function writes(units: readonly string[]): Promise<Map<string, { version: number; modRevision: number }>> {
  const etcd = cluster.connect();
  try {
    const keys = new Keys(cluster.prefix);
    const out = new Map<string, { version: number; modRevision: number }>();
    for (const u of units) {
      const res = await etcd.get(keys.unit(u)).exec();
      const kv = res.kvs[0];
      out.set(u, kv ? { version: Number(kv.version), modRevision: Number(kv.mod_revision) } : { version: 0, modRevision: 0 });
    }
    return out;
  } finally {
    etcd.close();
  }
}

async function description(unit: string): Promise<string | undefined> {
  const [host] = await hostsRunning(cluster, unit);
  if (host === undefined) return undefined;
  const r = await cluster.systemctl(host, ['show', '-p', 'Description', unit]);
  return r.stdout.trim().replace(/^Description=/, '');
}

test('the engine follows a repository: two pushed commits, each applied once; a failed fetch changes only the error', async () => {
  const c1 = await repo.push({ 'a.service': A1, 'README.md': 'not a unit\n' });
  const add = await flotctl(env, ['source', 'add', 'infra', repo.url, '--interval', INTERVAL]);
  assert.equal(add.code, 0, add.stdout + add.stderr);

  await waitFor('the first commit applied and running', async () => ((await source('infra'))?.commit?.commit === c1 && (await description('a.service')) === 'pulled a, first' ? true : undefined), { timeoutMs: 60_000 });

  const c2 = await repo.push({ 'a.service': A2, 'b.service': B });
  await waitFor('the second commit applied, a.service rolled to its new content, b.service running', async () => {
    const s = await source('infra');
    if (s?.commit?.commit !== c2 || s.rollout?.state !== 'succeeded') return undefined;
    return (await description('a.service')) === 'pulled a, second' && (await description('b.service')) === 'pulled b' ? true : undefined;
  }, { timeoutMs: 90_000 });
  const applied = await writes(['a.service', 'b.service']);
  // a.service: created by c1, replaced once by c2's rollout. b.service: created by c2.
  assert.deepEqual([...applied.values()].map((w) => w.version), [2, 1], JSON.stringify([...applied]));
  const [aHost] = await hostsRunning(cluster, 'a.service');
  assert.ok(aHost !== undefined);
  const pid = (await hostUnit(cluster, aHost, 'a.service')).mainPid;

  // Several more intervals with nothing pushed: nothing is applied again.
  const quiet = Date.now() + 2.5 * INTERVAL_MS;
  await waitFor('two and a half intervals', async () => (Date.now() >= quiet ? true : undefined), { timeoutMs: 3 * INTERVAL_MS });
  assert.deepEqual(await writes(['a.service', 'b.service']), applied, 'no unit record was written again');

  // The server goes away: the source shows the error, and nothing else changes.
  await daemon?.stop();
  daemon = undefined;
  await waitFor('the fetch failure shows in the error column', async () => ((await source('infra'))?.error?.message ? true : undefined), { timeoutMs: 4 * INTERVAL_MS });
  const failed = await source('infra');
  assert.equal(failed?.commit?.commit, c2, 'the applied commit stays');
  assert.equal(failed?.rollout?.state, 'succeeded');
  assert.match(failed?.error?.message ?? '', /127\.0\.0\.1/, 'the error says what could not be fetched');
  assert.deepEqual(await writes(['a.service', 'b.service']), applied, 'no unit record was written');
  assert.equal((await hostUnit(cluster, aHost, 'a.service')).mainPid, pid, 'a.service was not restarted');
  const text = await flotctl(env, ['sources', '--no-legend']);
  assert.match(text.stdout, new RegExp(`^infra\\s+pull\\s+2\\s+${c2.slice(0, 12)}\\s+succeeded\\(1/1\\)\\s+\\S`, 'm'), text.stdout);
});
