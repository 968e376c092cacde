/**
 * The engine's one entry point against a real etcd and git daemon, called
 * the way the leader will call it (again at nextWakeAt, here at once): a
 * pull source is followed, its changed running unit rolled by the same
 * calls, and a stale fence makes every call write nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { GITOPS_IDLE_WAKE_MS, gitopsDuty } from '../../src/gitops/engine-duty.js';
import type { SourceRecord } from '../../src/registry/records.js';
import { SourceStore } from '../../src/registry/source-store.js';
import { Registry } from '../../src/registry/registry.js';
import { type Condition, commitTxn, read, when } from '../../src/registry/txn.js';
import { PushedRepo, gitDaemonForTests } from './git-server.js';
import { etcdForTests } from '../support/etcd.js';

let dir = '';
let client: Etcd3;
const silent = { info: () => undefined, warn: () => undefined };
const M = '1'.repeat(32);

const testEtcd = etcdForTests('engine-duty', (c) => {
  client = c;
  dir = testEtcd.dir();
});

const gitDaemon = gitDaemonForTests();

/** Calls run until `done` holds, as the leader would at each nextWakeAt; fails after the deadline. */
async function runUntil(run: (now: number) => Promise<{ nextWakeAt: number }>, done: () => Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > end) assert.fail(`not within ${deadlineMs} ms: ${what}`);
    const { nextWakeAt } = await run(Date.now());
    assert.ok(nextWakeAt >= 0);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('follows a pull source and rolls its changed unit; a stale fence writes nothing', async () => {
  const prefix = '/duty/';
  const store = new SourceStore(client, prefix);
  const k = store.keys;
  const repo = await PushedRepo.create(gitDaemon(), 'duty');
  const def: SourceRecord = { name: 'duty', mode: 'pull', repository: 'duty', path: '', url: repo.url, intervalMs: 1000, prune: true, createdAt: '' };
  assert.equal(await store.putSource(def, 0), true);
  const fenceKey = k.candidate('7');
  const put = await commitTxn(client, { writes: [{ op: 'put', key: fenceKey, value: 'x' }] });
  const fence: Condition[] = [when.createdAt(fenceKey, put.revision)];

  // A deposed leader first: nothing at all is written.
  const stale = gitopsDuty({ registry: new Registry(client, prefix), cacheDir: join(dir, 'cache-stale'), fence: () => [when.createdAt(fenceKey, 1)], log: silent });
  await repo.push({ 'a.service': '[Service]\nExecStart=/bin/sleep 100\n' });
  const before = (await commitTxn(client, { reads: [read.get('/none')] })).revision;
  const first = await stale.run(Date.now());
  await stale.settled();
  assert.ok(first.nextWakeAt <= Date.now() + GITOPS_IDLE_WAKE_MS);
  await stale.run(Date.now());
  await stale.settled();
  assert.equal((await commitTxn(client, { reads: [read.get('/none')] })).revision, before, 'a stale fence writes nothing');

  const duty = gitopsDuty({ registry: new Registry(client, prefix), cacheDir: join(dir, 'cache'), fence: () => fence, log: silent });
  const snap = (): ReturnType<SourceStore['readSyncSnapshot']> => store.readSyncSnapshot('duty');
  await runUntil((now) => duty.run(now), async () => (await snap()).units.has('a.service'), 'the first commit applied');
  const oldHash = (await snap()).units.get('a.service')?.hash;

  const c2 = await repo.push({ 'a.service': '[Service]\nExecStart=/bin/sleep 200\n' });
  await runUntil((now) => duty.run(now), async () => (await snap()).status?.record.applied?.commit === c2, 'the second commit applied (interval 1s)');
  const newHash = (await snap()).rollout?.record?.units[0]?.hash as string;
  assert.notEqual(newHash, oldHash);
  await runUntil((now) => duty.run(now), async () => (await snap()).units.get('a.service')?.hash === newHash, 'the rollout replaced the unit');
  // The host reports it healthy; the rollout ends after min-healthy-time (Nomad's 10s default would be slow here: shorten it in the record).
  await commitTxn(client, { writes: [{ op: 'put', key: k.state('a.service', M), value: JSON.stringify({ unit: 'a.service', machineId: M, hash: newHash, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }) }] });
  const r = (await snap()).rollout;
  assert.ok(r?.record);
  await commitTxn(client, { conditions: [when.modifiedAt(k.rollout('duty'), r.revision)], writes: [{ op: 'put', key: k.rollout('duty'), value: JSON.stringify({ ...r.record, opts: { ...r.record.opts, minHealthyMs: 200 } }) }] });
  await runUntil((now) => duty.run(now), async () => (await snap()).rollout?.record?.state === 'done', 'the rollout done');
  await duty.settled();
});
