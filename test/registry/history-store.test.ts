/**
 * The store's history against a real etcd: reads at a revision, a watch
 * from a revision delivering each revision's changes together (with the
 * values before them), and a compacted revision refused with CompactedError
 * by the reads and by the watch alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { CompactedError, FutureRevisionError, historyError, historyStoreOver, type HistoryStore, type KeyChange } from '../../src/registry/history-store.js';
import { Registry } from '../../src/registry/registry.js';
import { commitTxn, Writes } from '../../src/registry/txn.js';
import { waitFor } from '../../src/util/deadline.js';
import { etcdForTests } from '../support/etcd.js';

let client: Etcd3;
let history: HistoryStore;
let n = 0;
const fresh = (): string => `/history-test-${++n}/`;

etcdForTests('history', (c) => {
  client = c;
  history = historyStoreOver(new Registry(client, '/history-test/'));
});


const revisionOf = async (key: string, value: string): Promise<number> => Number((await client.put(key).value(value).exec()).header.revision);

test('etcd refusals of a revision become typed errors; any other error passes unchanged', () => {
  const compacted = historyError(new Error('etcdserver: mvcc: required revision has been compacted'), 7);
  assert.ok(compacted instanceof CompactedError);
  assert.equal(compacted.revision, 7);
  const ahead = historyError(new Error('Watcher canceled: mvcc: required revision is a future revision'), 9);
  assert.ok(ahead instanceof FutureRevisionError);
  assert.equal(ahead.revision, 9);
  const other = new Error('14 UNAVAILABLE: connect ECONNREFUSED');
  assert.equal(historyError(other, 1), other);
});

test('readAt and keysAt answer as of the revision asked, with the revision now', async () => {
  const p = fresh();
  const first = await revisionOf(`${p}a`, '1');
  const second = await revisionOf(`${p}b`, '2');
  await client.delete().key(`${p}a`).exec();
  const now = await history.currentRevision();
  assert.ok(now > second);
  const then = await history.readAt(p, first);
  assert.equal(then.revision, now, 'the header is the store revision, not the one read at');
  assert.deepEqual(then.kvs.map((kv) => [kv.key, kv.value, kv.createRevision, kv.modRevision]), [[`${p}a`, '1', first, first]]);
  assert.deepEqual((await history.readAt(p)).kvs.map((kv) => kv.key), [`${p}b`]);
  assert.deepEqual(await history.keysAt(p, second), [`${p}a`, `${p}b`]);
});

test('watchFrom: the backlog and live changes, one call per revision, values before each change, nothing after stop', async () => {
  const p = fresh();
  const start = await revisionOf(`${p}x`, 'old');
  const multi = await commitTxn(client, { writes: new Writes().put(`${p}x`, 'new').put(`${p}y`, 'y1') });
  const seen: Array<[number, KeyChange[]]> = [];
  const failures: Error[] = [];
  const stop = await history.watchFrom(p, start + 1, { revision: (r, c) => seen.push([r, c]), failed: (e) => failures.push(e) });
  const deleted = Number((await client.delete().key(`${p}x`).exec()).header.revision);
  await waitFor('the backlog and the delete', () => (seen.length >= 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
  assert.deepEqual(seen, [
    [multi.revision, [
      { type: 'put', key: `${p}x`, revision: multi.revision, value: 'new', previous: 'old', createRevision: start },
      { type: 'put', key: `${p}y`, revision: multi.revision, value: 'y1', previous: undefined, createRevision: multi.revision },
    ]],
    [deleted, [{ type: 'delete', key: `${p}x`, revision: deleted, value: undefined, previous: 'new', createRevision: 0 }]],
  ]);
  await stop();
  const later = await revisionOf(`${p}y`, 'y2');
  // A marker written after: once a fresh watch sees it, the stopped one would have seen it too.
  const marker: number[] = [];
  const stopMarker = await history.watchFrom(p, later, { revision: (r) => marker.push(r), failed: () => undefined });
  await waitFor('the marker watch saw the write', () => (marker.includes(later) ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
  await stopMarker();
  assert.equal(seen.length, 2, 'nothing delivered after stop');
  assert.deepEqual(failures, []);
});

test('a compacted revision: CompactedError from readAt, keysAt and watchFrom, none delivered', async () => {
  const p = fresh();
  const old = await revisionOf(`${p}k`, '1');
  const head = await revisionOf(`${p}k`, '2');
  await client.kv.compact({ revision: String(head), physical: true });
  await assert.rejects(history.readAt(p, old), (err: unknown) => err instanceof CompactedError && err.revision === old);
  await assert.rejects(history.keysAt(p, old), (err: unknown) => err instanceof CompactedError && err.revision === old);
  const seen: number[] = [];
  // etcd creates the watch and then cancels it, or refuses it outright: either way a CompactedError, no changes.
  let refusal: unknown;
  await history.watchFrom(p, old, { revision: (r) => seen.push(r), failed: (err) => (refusal = err) }).catch((err: unknown) => (refusal = err));
  await waitFor('the compacted watch refused', () => refusal, { timeoutMs: 5000, intervalMs: 10 });
  assert.ok(refusal instanceof CompactedError, String(refusal));
  assert.equal(refusal.revision, old);
  assert.equal(seen.length, 0, 'the watch delivered nothing');
  // From the compaction revision on, the history is still there.
  const stop = await history.watchFrom(p, head, { revision: (r) => seen.push(r), failed: () => undefined });
  await waitFor('the write at the compaction revision', () => (seen.includes(head) ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
  await stop();
});
