/**
 * Answers over gRPC's default 4 MB message limit, against a real etcd: the
 * assignments of 50,000 units are ~9 MB, and a cache that cannot read its
 * prefix cannot start. Through connectStore one range read, a read-only
 * transaction and a watch cache's first read all take them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { PrefixCache } from '../../src/registry/prefix-cache.js';
import { commitTxn, read } from '../../src/registry/txn.js';
import { etcdForTests } from '../support/etcd.js';

let client: Etcd3;
etcdForTests('big-reads', (c) => (client = c));

test('a prefix of 6 MB is read whole: a range read, a transaction and a prefix cache', async () => {
  const p = '/big/';
  const mb = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < 6; i++) await commitTxn(client, { writes: [{ op: 'put', key: `${p}k${i}`, value: mb }] });
  const all = await client.getAll().prefix(p).exec();
  assert.equal(all.kvs.length, 6);
  const txn = await commitTxn(client, { reads: [read.range(p)] });
  assert.equal(txn.reads[0]?.length, 6);
  const cache = new PrefixCache<number>(client, p, (text) => text.length);
  await cache.start();
  try {
    assert.deepEqual([...cache.values()].map((e) => e.value), Array.from({ length: 6 }, () => mb.length));
  } finally {
    await cache.close();
  }
});
