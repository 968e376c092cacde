/**
 * The pull duty against a real etcd and a real git daemon: pushed commits
 * are applied once each (the store's revision does not move on a pass that
 * finds nothing new), pruning follows the source's rule, a stale fence
 * writes nothing at all, a fetch or tree failure writes only status.error,
 * and two engines racing on one commit apply it once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { freePorts } from '../../src/dev/ports.js';
import { FetchError, type FetchSource, gitFetcher } from '../../src/gitops/pull.js';
import { PullSchedule, type PullDutyDeps, dueSources, runPullDuty } from '../../src/gitops/pull-duty.js';
import type { SourceRecord } from '../../src/registry/records.js';
import { SourceStore } from '../../src/registry/source-store.js';
import { RolloutStore } from '../../src/registry/rollout-store.js';
import { type DriverDeps, driveRollout } from '../../src/rollout/driver.js';
import { type Condition, commitTxn, read, when } from '../../src/registry/txn.js';
import { PushedRepo, gitDaemonForTests } from './git-server.js';
import { etcdForTests } from '../support/etcd.js';

const A1 = '[Service]\nExecStart=/bin/sleep 100\n';
const A2 = '[Service]\nExecStart=/bin/sleep 200\n';
const WEB = '[Service]\nExecStart=/bin/sleep infinity\n';
const INTERVAL = 1000;

let dir = '';
let client: Etcd3;
let n = 0;

const testEtcd = etcdForTests('pull-duty', (c) => {
  client = c;
  dir = testEtcd.dir();
});

const gitDaemon = gitDaemonForTests();

const silent = { info: () => undefined, warn: () => undefined };

async function revision(): Promise<number> {
  return (await commitTxn(client, { reads: [read.get('/none')] })).revision;
}

interface World {
  store: SourceStore;
  repo: PushedRepo;
  deps: PullDutyDeps;
  fetches: () => number;
  fenceKey: string;
}

/** A fresh prefix, a pull source following a new repository, a fence key held by "the leader". */
async function world(opts: { prune?: boolean; url?: string } = {}): Promise<World> {
  const prefix = `/pull-${++n}/`;
  const store = new SourceStore(client, prefix);
  const repo = await PushedRepo.create(gitDaemon(), `repo${n}`);
  const def: SourceRecord = { name: 'acme/infra:units', mode: 'pull', repository: 'acme/infra', path: 'units', url: opts.url ?? repo.url, branch: 'main', intervalMs: INTERVAL, prune: opts.prune ?? true, createdAt: new Date(0).toISOString() };
  assert.equal(await store.putSource(def, 0), true);
  const fenceKey = `${prefix}engine/candidates/1`;
  const put = await commitTxn(client, { writes: [{ op: 'put', key: fenceKey, value: 'leader' }] });
  const fence: Condition[] = [when.createdAt(fenceKey, put.revision)];
  const real = gitFetcher({ cacheDir: join(dir, 'cache') });
  let count = 0;
  const fetch: FetchSource = (t) => (count++, real(t));
  return { store, repo, fenceKey, fetches: () => count, deps: { store, fetch, fence: () => fence, log: silent, schedule: new PullSchedule() } };
}

async function units(w: World): Promise<Record<string, string>> {
  const snap = await w.store.readSyncSnapshot('acme/infra:units');
  return Object.fromEntries([...snap.units.values()].map((u) => [u.name, `${u.desired}`]));
}

describe('dueSources', () => {
  it('new sources are due now; others at last fetch + interval', () => {
    const d = (name: string, intervalMs?: number): SourceRecord => ({ name, mode: 'pull', repository: 'r', path: '', url: 'git://h/r', ...(intervalMs ? { intervalMs } : {}), createdAt: '' });
    const push: SourceRecord = { name: 'p', mode: 'push', repository: 'r', path: '', createdAt: '' };
    const r = dueSources([d('a', 5000), d('b', 5000), d('c'), push], new Map([['b', 1000], ['c', 9000]]), 7000);
    assert.deepEqual(r.due.map((s) => s.name), ['a', 'b']);
    assert.equal(r.nextWakeAt, 12_000);
    assert.deepEqual(dueSources([push], new Map(), 0), { due: [], nextWakeAt: undefined });
  });
});

describe('runPullDuty', () => {
  it('asks the fetch cache to keep the URLs of the pull sources it lists, and no others', async () => {
    const w = await world();
    await w.repo.push({ 'units/a.service': A1 });
    const asked: string[][] = [];
    await runPullDuty({ ...w.deps, pruneCache: async (keep) => (asked.push([...keep]), []) }, 0);
    assert.deepEqual(asked, [[w.repo.url]]);
  });

  it('applies two pushed commits once each, pruning what the source removed', async () => {
    const w = await world();
    const c1 = await w.repo.push({ 'units/a.service': A1, 'units/web@.service': WEB, 'units/web@1.service': { symlink: 'web@.service' }, 'units/web@2.service': { symlink: 'web@.service' } });
    let r = await runPullDuty(w.deps, 0);
    assert.deepEqual(r.outcomes, [{ source: 'acme/infra:units', outcome: 'applied', commit: c1 }]);
    assert.equal(r.nextWakeAt, INTERVAL);
    assert.deepEqual(await units(w), { 'a.service': 'launched', 'web@.service': 'inactive', 'web@1.service': 'launched', 'web@2.service': 'launched' });
    let status = await w.store.getSourceStatus('acme/infra:units');
    assert.equal(status?.record.applied?.commit, c1);
    assert.equal(status?.record.applied?.dirty, false);
    const inventory = (await w.store.listInventory()).filter((e) => e.source === 'acme/infra:units');
    assert.deepEqual(inventory.map((e) => [e.unit, e.commit]), ['a.service', 'web@.service', 'web@1.service', 'web@2.service'].map((u) => [u, c1]));

    // Not due yet: no fetch. Due, same commit: fetched, nothing written.
    assert.deepEqual((await runPullDuty(w.deps, INTERVAL - 1)).outcomes, []);
    assert.equal(w.fetches(), 1);
    const before = await revision();
    assert.deepEqual((await runPullDuty(w.deps, INTERVAL)).outcomes, [{ source: 'acme/infra:units', outcome: 'current', commit: c1 }]);
    assert.equal(w.fetches(), 2);
    assert.equal(await revision(), before, 'a pass with nothing new writes nothing');

    const c2 = await w.repo.push({ 'units/a.service': A2, 'units/web@2.service': null, 'units/flotilla.ini': '[desired]\nweb@1.service = loaded\n' });
    r = await runPullDuty(w.deps, 2 * INTERVAL);
    assert.deepEqual(r.outcomes, [{ source: 'acme/infra:units', outcome: 'applied', commit: c2 }]);
    assert.deepEqual(await units(w), { 'a.service': 'launched', 'web@.service': 'inactive', 'web@1.service': 'loaded' });
    status = await w.store.getSourceStatus('acme/infra:units');
    assert.equal(status?.record.applied?.commit, c2);
    assert.equal(status?.record.error, undefined);
    const again = await revision();
    assert.equal((await runPullDuty(w.deps, 3 * INTERVAL)).outcomes[0]?.outcome, 'current');
    assert.equal(await revision(), again);
  });

  it('a stale fence writes nothing, not even the error', async () => {
    const w = await world();
    await w.repo.push({ 'units/a.service': A1 });
    const stale: Condition[] = [when.createdAt(w.fenceKey, 1)];
    const before = await revision();
    const r = await runPullDuty({ ...w.deps, fence: () => stale }, 0);
    assert.equal(r.outcomes[0]?.outcome, 'refused');
    assert.equal(await revision(), before);
    const bad = await world({ url: `git://127.0.0.1:${(await freePorts(1))[0]}/gone.git` });
    const before2 = await revision();
    assert.equal((await runPullDuty({ ...bad.deps, fence: () => stale }, 0)).outcomes[0]?.outcome, 'refused');
    assert.equal(await revision(), before2);
  });

  it('a fetch failure or a bad tree writes status.error only; the next success clears it', async () => {
    const w = await world();
    const c1 = await w.repo.push({ 'units/a.service': A1 });
    await runPullDuty(w.deps, 0);
    const cluster = await units(w);
    const hashBefore = (await w.store.readSyncSnapshot('acme/infra:units')).units.get('a.service')?.hash;
    const failing: FetchSource = () => Promise.reject(new FetchError('cannot fetch branch main of git://x: Connection refused'));
    assert.equal((await runPullDuty({ ...w.deps, fetch: failing }, INTERVAL)).outcomes[0]?.outcome, 'failed');
    let status = await w.store.getSourceStatus('acme/infra:units');
    assert.match(status?.record.error?.message ?? '', /Connection refused/);
    assert.equal(status?.record.applied?.commit, c1);
    // The same failure again: no rewrite.
    const before = await revision();
    await runPullDuty({ ...w.deps, fetch: failing }, 2 * INTERVAL);
    assert.equal(await revision(), before);

    await w.repo.push({ 'units/a.service': A2, 'units/x@1.service': { symlink: 'x@.service' } });
    assert.equal((await runPullDuty(w.deps, 3 * INTERVAL)).outcomes[0]?.outcome, 'failed');
    status = await w.store.getSourceStatus('acme/infra:units');
    assert.match(status?.record.error?.message ?? '', /units\/x@1\.service: symlink -> x@\.service points to a missing template/);
    assert.equal(status?.record.applied?.commit, c1);
    assert.deepEqual(await units(w), cluster, 'a bad tree changes no unit');
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).units.get('a.service')?.hash, hashBefore);

    const c3 = await w.repo.push({ 'units/x@1.service': null });
    assert.equal((await runPullDuty(w.deps, 4 * INTERVAL)).outcomes[0]?.outcome, 'applied');
    status = await w.store.getSourceStatus('acme/infra:units');
    assert.equal(status?.record.applied?.commit, c3);
    assert.equal(status?.record.error, undefined);
  });

  it('two engines racing on one commit apply it once', async () => {
    const w = await world();
    const c1 = await w.repo.push({ 'units/a.service': A1, 'units/b.service': A2 });
    // Another host: its own fetch cache and schedule, the same fence (both think they lead).
    const other: PullDutyDeps = { ...w.deps, fetch: gitFetcher({ cacheDir: join(dir, 'cache-other') }), schedule: new PullSchedule() };
    const [x, y] = await Promise.all([runPullDuty(w.deps, 0), runPullDuty(other, 0)]);
    const outcomes = [x.outcomes[0]?.outcome, y.outcomes[0]?.outcome].sort();
    // Either one applies and the other is refused, or the second saw it applied already.
    assert.ok(JSON.stringify(outcomes) === '["applied","refused"]' || JSON.stringify(outcomes) === '["applied","current"]', JSON.stringify(outcomes));
    assert.equal((await w.store.getSourceStatus('acme/infra:units'))?.record.applied?.commit, c1);
  });

  it('a running unit with new content is rolled: content and ownership now, the unit record by the rollout driver', async () => {
    const w = await world();
    const deps: PullDutyDeps = { ...w.deps, rolling: { maxParallel: 1, minHealthyMs: 0, healthyDeadlineMs: 60_000, autoRevert: false } };
    await w.repo.push({ 'units/a.service': A1, 'units/b.service': A1 });
    await runPullDuty(deps, 0);
    const old = (await w.store.readSyncSnapshot('acme/infra:units')).units.get('a.service')?.hash as string;
    const c2 = await w.repo.push({ 'units/a.service': A2, 'units/b.service': A2, 'units/c.service': WEB });
    assert.equal((await runPullDuty(deps, INTERVAL)).outcomes[0]?.outcome, 'applied');
    const snap = await w.store.readSyncSnapshot('acme/infra:units');
    assert.equal(snap.units.get('a.service')?.hash, old, 'not replaced at once');
    assert.equal(snap.units.get('b.service')?.hash, old);
    assert.ok(snap.units.get('c.service'), 'a created unit is written at once');
    assert.equal(snap.status?.record.applied?.commit, c2, 'the commit is applied (once), its rollout running');
    const rollout = snap.rollout?.record;
    assert.equal(rollout?.state, 'running');
    assert.equal(rollout?.commit, c2);
    assert.deepEqual(rollout?.units.map((u) => [u.name, u.phase, u.previousHash === old]), [['a.service', 'pending', true], ['b.service', 'pending', true]]);
    const newHash = rollout?.units[0]?.hash as string;
    assert.deepEqual((await w.store.listSources()).statuses.get('acme/infra:units')?.rollout, { state: 'running', commit: c2, done: 0, total: 2, at: '' });
    const owned = snap.inventory.find((e) => e.unit === 'a.service' && e.source === 'acme/infra:units');
    assert.deepEqual([owned?.hash, owned?.commit], [newHash, c2]);
    assert.ok((await commitTxn(client, { reads: [read.get(w.store.keys.content(newHash))] })).reads[0]?.[0], 'the new content is stored');

    // The driver carries it out (the test plays the hosts' agents).
    const drive: DriverDeps = { store: new RolloutStore(client, w.store.keys.prefix), fence: w.deps.fence, log: silent };
    const healthy = async (unit: string): Promise<void> => {
      await commitTxn(client, { writes: [{ op: 'put', key: w.store.keys.state(unit, '1'.repeat(32)), value: JSON.stringify({ unit, machineId: '1'.repeat(32), hash: newHash, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }) }] });
    };
    await driveRollout(drive, 'acme/infra:units', 10);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).units.get('a.service')?.hash, newHash);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).units.get('b.service')?.hash, old);
    await healthy('a.service');
    await driveRollout(drive, 'acme/infra:units', 20);
    await driveRollout(drive, 'acme/infra:units', 30);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).units.get('b.service')?.hash, newHash);
    await healthy('b.service');
    await driveRollout(drive, 'acme/infra:units', 40);
    await driveRollout(drive, 'acme/infra:units', 50);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).rollout?.record?.state, 'done');
    const summary = (await w.store.listSources()).statuses.get('acme/infra:units')?.rollout;
    assert.deepEqual([summary?.state, summary?.done, summary?.total], ['succeeded', 2, 2]);
    // The same commit again: nothing.
    const before = await revision();
    assert.equal((await runPullDuty(deps, 2 * INTERVAL)).outcomes[0]?.outcome, 'current');
    assert.equal(await revision(), before);
    // Removing the source removes its rollout record, so no driver carries it on.
    assert.equal(await w.store.removeSource('acme/infra:units'), true);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).rollout, undefined);
  });

  it('a newer commit ends an older rollout: its units still to do do not go on', async () => {
    const w = await world();
    const deps: PullDutyDeps = { ...w.deps, rolling: { maxParallel: 1, minHealthyMs: 0, healthyDeadlineMs: 60_000, autoRevert: false } };
    await w.repo.push({ 'units/a.service': A1, 'units/b.service': A1 });
    await runPullDuty(deps, 0);
    const old = (await w.store.readSyncSnapshot('acme/infra:units')).units.get('b.service')?.hash;
    await w.repo.push({ 'units/a.service': A2, 'units/b.service': A2 });
    await runPullDuty(deps, INTERVAL);
    const drive: DriverDeps = { store: new RolloutStore(client, w.store.keys.prefix), fence: w.deps.fence, log: silent };
    await driveRollout(drive, 'acme/infra:units', INTERVAL + 1);
    // a is in flight with the new content, b pending; the repository goes back to the old content.
    const c3 = await w.repo.push({ 'units/a.service': A1, 'units/b.service': A1 });
    assert.equal((await runPullDuty(deps, 2 * INTERVAL)).outcomes[0]?.outcome, 'applied');
    let snap = await w.store.readSyncSnapshot('acme/infra:units');
    assert.equal(snap.rollout?.record?.commit, c3);
    assert.equal(snap.rollout?.record?.state, 'running', 'a goes back by a rollout of its own');
    assert.deepEqual(snap.rollout?.record?.units.map((u) => u.name), ['a.service']);
    for (let t = 1; t < 5; t++) await driveRollout(drive, 'acme/infra:units', 2 * INTERVAL + t);
    snap = await w.store.readSyncSnapshot('acme/infra:units');
    assert.equal(snap.units.get('b.service')?.hash, old, 'b never got the content of the superseded commit');
    assert.equal(snap.units.get('a.service')?.hash, old);

    // Nothing of the newer commit to roll: the older rollout just ends.
    await w.repo.push({ 'units/a.service': A2, 'units/b.service': A2 });
    await runPullDuty(deps, 3 * INTERVAL);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).rollout?.record?.state, 'running');
    const c5 = await w.repo.push({ 'units/a.service': A1, 'units/b.service': A1 });
    await runPullDuty(deps, 4 * INTERVAL);
    snap = await w.store.readSyncSnapshot('acme/infra:units');
    assert.deepEqual([snap.rollout?.record?.commit, snap.rollout?.record?.state, snap.rollout?.record?.units.length], [c5, 'done', 0]);
    await driveRollout(drive, 'acme/infra:units', 4 * INTERVAL + 1);
    assert.equal((await w.store.readSyncSnapshot('acme/infra:units')).units.get('b.service')?.hash, old);
  });

  it('a unit made by hand is not taken over: the error says how to resolve it, nothing changes', async () => {
    const w = await world();
    await commitTxn(client, { writes: [{ op: 'put', key: w.store.keys.unit('hand.service'), value: JSON.stringify({ name: 'hand.service', hash: 'd'.repeat(40), desired: 'launched' }) }] });
    await w.repo.push({ 'units/hand.service': A1, 'units/a.service': A1 });
    assert.equal((await runPullDuty(w.deps, 0)).outcomes[0]?.outcome, 'failed');
    const status = await w.store.getSourceStatus('acme/infra:units');
    assert.match(status?.record.error?.message ?? '', /hand\.service exists in the cluster and no source owns it \(made by hand\?\): destroy it, or remove it from the repository/);
    assert.deepEqual(Object.keys(await units(w)), ['hand.service'], 'all or nothing: a.service is not created either');
  });

  it('without prune, units the repository dropped are kept', async () => {
    const w = await world({ prune: false });
    await w.repo.push({ 'units/a.service': A1, 'units/b.service': A2 });
    await runPullDuty(w.deps, 0);
    await w.repo.push({ 'units/b.service': null });
    assert.equal((await runPullDuty(w.deps, INTERVAL)).outcomes[0]?.outcome, 'applied');
    assert.deepEqual(Object.keys(await units(w)), ['a.service', 'b.service']);
  });
});
