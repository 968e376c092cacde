/**
 * Pull mode across a leader change: the engine host loses power in the
 * middle of a pulled commit's rollout; another engine leads, resumes the
 * rollout from its record and fetches the repository again, yet the commit
 * is applied once (one status write that records it, one rollout started
 * for it, each unit record written once for it), and every unit ends on the
 * commit's content on a surviving host.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Watcher } from 'etcd3';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { decodeRollout, decodeSourceStatus } from '../../src/registry/records.js';
import { waitFor } from '../../src/util/deadline.js';
import { type GitDaemon, PushedRepo, startGitDaemon } from '../gitops/git-server.js';
import { flotctl } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';

const TTL = 5;
const UNITS = ['a.service', 'b.service', 'c.service'];
const unit = (name: string, version: string): string => `[Unit]\nDescription=${name} ${version}\n\n[Service]\nExecStart=/bin/sleep infinity\n`;
const files = (version: string): Record<string, string> => Object.fromEntries(UNITS.map((u) => [u, unit(u, version)]));

let cluster: LocalCluster;
let env: Record<string, string>;
let daemon: GitDaemon | undefined;
let repo: PushedRepo;
let watcher: Watcher | undefined;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-pullfo-'), hosts: 3, ttlSeconds: TTL });
  env = cluster.flotctlEnv();
  daemon = await startGitDaemon();
  repo = await PushedRepo.create(daemon, 'infra');
});

after(async () => {
  await watcher?.cancel();
  await daemon?.stop();
  await cluster?.down();
});

async function description(u: string, among: number[]): Promise<string | undefined> {
  const [host] = await hostsRunning(cluster, u, among);
  if (host === undefined) return undefined;
  return (await cluster.systemctl(host, ['show', '-p', 'Description', u])).stdout.trim().replace(/^Description=/, '');
}

test('a leader change during a pulled rollout: the new engine resumes it, and the commit is applied once', async () => {
  const c1 = await repo.push(files('v1'));
  const add = await flotctl(env, ['source', 'add', 'infra', repo.url, '--interval', '5s']);
  assert.equal(add.code, 0, add.stdout + add.stderr);
  const all = cluster.hosts.map((_, i) => i);
  await waitFor('the first commit running', async () => {
    for (const u of UNITS) if ((await description(u, all)) !== `${u} v1`) return undefined;
    return true;
  }, { timeoutMs: 60_000 });

  // Every write of the source's status and rollout record, and of the units, from here on.
  const keys = new Keys(cluster.prefix);
  const etcd = cluster.connect();
  const statusWrites: string[] = [];
  const rolloutWrites: string[] = [];
  const unitWrites = new Map<string, number>();
  watcher = await etcd.watch().prefix(cluster.prefix).create();
  watcher.on('put', (kv) => {
    const key = kv.key.toString();
    if (key === keys.sourceStatus('infra')) statusWrites.push(kv.value.toString());
    else if (key === keys.rollout('infra')) rolloutWrites.push(kv.value.toString());
    else for (const u of UNITS) if (key === keys.unit(u)) unitWrites.set(u, (unitWrites.get(u) ?? 0) + 1);
  });

  const c2 = await repo.push(files('v2'));
  assert.notEqual(c1, c2);
  // Kill the engine host once the rollout has replaced its first unit (default pacing: one at a time, 10s healthy each).
  await waitFor('the rollout of the second commit under way', async () => {
    const r = rolloutWrites.length > 0 ? decodeRollout(rolloutWrites.at(-1) as string) : undefined;
    return r?.commit === c2 && r.units.some((u) => u.phase === 'inflight') ? true : undefined;
  }, { timeoutMs: 60_000 });
  const leader = await cluster.engineHost();
  assert.ok(leader !== undefined, 'an engine leads');
  await cluster.killHost(leader);
  const others = all.filter((i) => i !== leader);
  const next = await waitFor('another engine leads', async () => {
    const e = await cluster.engineHost();
    return e !== undefined && e !== leader ? e : undefined;
  }, { timeoutMs: 6 * TTL * 1000 });
  console.log(`# engine host ${leader + 1} killed during the rollout; host ${next + 1} leads`);

  await waitFor('the rollout done and every unit on the new content on a surviving host', async () => {
    const r = rolloutWrites.length > 0 ? decodeRollout(rolloutWrites.at(-1) as string) : undefined;
    if (r?.commit !== c2 || r.state !== 'done') return undefined;
    for (const u of UNITS) if ((await description(u, others)) !== `${u} v2`) return undefined;
    return true;
  }, { timeoutMs: 180_000 });
  // The new leader has fetched the branch since it took over (it fetches each source at once, then every 5s).
  const quiet = Date.now() + 12_000;
  await waitFor('two more fetch intervals', async () => (Date.now() >= quiet ? true : undefined), { timeoutMs: 15_000 });

  const applied = statusWrites.map((v) => decodeSourceStatus(v)).filter((s) => s?.applied?.commit === c2);
  const firstApplied = statusWrites.findIndex((v) => decodeSourceStatus(v)?.applied?.commit === c2);
  assert.ok(firstApplied >= 0, 'the status records the second commit');
  // Later status writes (an error cleared, say) keep the commit; none may record applying it anew.
  assert.ok(applied.every((s) => s?.applying === undefined), JSON.stringify(applied));
  const started = rolloutWrites.map((v) => decodeRollout(v)).filter((r) => r?.commit === c2 && r.units.every((u) => u.phase === 'pending'));
  assert.equal(started.length, 1, `one rollout started for the commit: ${started.length}`);
  // c2 writes each unit once: its content (a rollout write) and nothing more; rescheduling off the dead host is not a unit write.
  assert.deepEqual(UNITS.map((u) => unitWrites.get(u) ?? 0), [1, 1, 1], JSON.stringify([...unitWrites]));
  const src = await flotctl(env, ['sources', '--no-legend']);
  assert.match(src.stdout, new RegExp(`^infra\\s+pull\\s+3\\s+${c2.slice(0, 12)}\\s+succeeded\\(3/3\\)\\s+-`, 'm'), src.stdout);
  etcd.close();
});
