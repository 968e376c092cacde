/**
 * The one transaction builder: its write set (pure) and every condition
 * against a real etcd, held and broken, so a condition that compiled to the
 * wrong compare fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { commitChunked, commitTxn, read, readChunked, TXN_MAX_OPS, when, Writes, type Condition } from '../../src/registry/txn.js';
import { etcdForTests } from '../support/etcd.js';

let client: Etcd3;
let n = 0;
const fresh = (): string => `/txn-test-${++n}/`;

etcdForTests('txn', (c) => (client = c));


test('writes: the last write to a key wins, puts go out in key order', () => {
  const w = new Writes().put('/b', '1').delete('/a').put('/a', '2').delete('/b').put('/c', '3').deletePrefix('/p/');
  assert.deepEqual(w.ops(), [
    { op: 'delete', key: '/b' },
    { op: 'put', key: '/a', value: '2' },
    { op: 'put', key: '/c', value: '3' },
    { op: 'deletePrefix', prefix: '/p/' },
  ]);
  assert.equal(w.size, 4);
  const other = new Writes().put('/b', 'kept-until-moved');
  const moved = w.moveInto(other);
  assert.equal(w.size, 0);
  assert.equal(moved.size, 4);
  assert.deepEqual(other.ops(), moved.ops());
});

test('every condition applies when it holds and refuses when it does not', async () => {
  const p = fresh();
  const lease = client.lease(30, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  const first = await commitTxn(client, { writes: [{ op: 'put', key: `${p}k`, value: 'v', lease: leaseId }] });
  const kv = (await commitTxn(client, { reads: [read.get(`${p}k`)] })).reads[0]?.[0];
  assert.ok(kv);
  assert.equal(kv.modRevision, first.revision);
  assert.equal(kv.lease, leaseId);
  // A prefix with two keys, the newer one written at `ranged`.
  await commitTxn(client, { writes: [{ op: 'put', key: `${p}r/a`, value: '1' }] });
  const ranged = (await commitTxn(client, { writes: [{ op: 'put', key: `${p}r/b`, value: '2' }] })).revision;
  const cases: Array<[Condition, boolean]> = [
    [when.unchangedSince(`${p}r/`, ranged), true],
    [when.unchangedSince(`${p}r/`, ranged + 5), true],
    [when.unchangedSince(`${p}r/`, ranged - 1), false],
    [when.unchangedSince(`${p}empty/`, 0), true],
    [when.absent(`${p}none`), true],
    [when.absent(`${p}k`), false],
    [when.present(`${p}k`), true],
    [when.present(`${p}none`), false],
    [when.createdAt(`${p}k`, kv.createRevision), true],
    [when.createdAt(`${p}k`, kv.createRevision + 1), false],
    [when.modifiedAt(`${p}k`, kv.modRevision), true],
    [when.modifiedAt(`${p}k`, 0), false],
    [when.modifiedAt(`${p}none`, 0), true],
    [when.leasedBy(`${p}k`, leaseId), true],
    [when.leasedBy(`${p}k`, '0'), false],
  ];
  for (const [condition, holds] of cases) {
    const res = await commitTxn(client, { conditions: [condition], writes: [{ op: 'put', key: `${p}mark`, value: JSON.stringify(condition) }] });
    assert.equal(res.succeeded, holds, JSON.stringify(condition));
  }
  await lease.revoke();
});

test('reads see the writes before them; the otherwise branch runs when a condition fails', async () => {
  const p = fresh();
  const res = await commitTxn(client, { writes: new Writes().put(`${p}a`, '1').put(`${p}b`, '2'), reads: [read.range(p), read.range(p, true)] });
  assert.deepEqual(res.reads[0]?.map((k) => [k.key, k.value]), [[`${p}a`, '1'], [`${p}b`, '2']]);
  assert.deepEqual(res.reads[1]?.map((k) => k.key), [`${p}a`, `${p}b`]);
  const refused = await commitTxn(client, { conditions: [when.absent(`${p}a`)], writes: [{ op: 'delete', key: `${p}a` }], otherwise: [read.get(`${p}a`)] });
  assert.equal(refused.succeeded, false);
  assert.equal(refused.reads[0]?.[0]?.value, '1');
  const gone = await commitTxn(client, { writes: [{ op: 'deletePrefix', prefix: p }] });
  assert.equal(gone.deleted, 2);
});

test('one transaction over TXN_MAX_OPS is refused before etcd is asked; chunked writes stop at the first refused chunk', async () => {
  const p = fresh();
  const many = new Writes();
  for (let i = 0; i < TXN_MAX_OPS + 1; i++) many.put(`${p}${String(i).padStart(4, '0')}`, 'x');
  await assert.rejects(commitTxn(client, { writes: many }), /cut it with commitChunked/);
  const ok = await commitChunked(client, [when.absent(`${p}stop`)], many);
  assert.equal(ok.refused, undefined);
  assert.equal((await readChunked(client, [read.range(p, true)]))[0]?.length, TXN_MAX_OPS + 1);
  await commitTxn(client, { writes: [{ op: 'put', key: `${p}stop`, value: '' }] });
  const stopped = await commitChunked(client, [when.absent(`${p}stop`)], [{ op: 'delete', key: `${p}0000` }], 1);
  assert.deepEqual(stopped.refused, { chunk: 0, chunks: 1 });
});
