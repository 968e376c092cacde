/**
 * PrefixCache against a real etcd: a value that does not decode is no entry,
 * but its key is listed as malformed (so a consumer can tell "unreadable"
 * from "absent"), and it is warned about once per key and revision, never
 * once per re-read or per key in a storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { Keys } from '../../src/registry/keys.js';
import { PrefixCache, type Change } from '../../src/registry/prefix-cache.js';
import { encode, type AssignmentRecord } from '../../src/registry/records.js';
import { recordDecoders } from '../../src/registry/records-at.js';
import { waitFor } from '../../src/util/deadline.js';
import { etcdForTests } from '../support/etcd.js';

const M = 'c'.repeat(32);
const H = 'a'.repeat(40);
let client: Etcd3;
let n = 0;

etcdForTests('prefix-cache', (c) => (client = c));


/** A cache of one machine's assignments on a fresh prefix, with its warnings and changes. */
function cacheOnFreshPrefix(): { keys: Keys; cache: PrefixCache<AssignmentRecord>; warnings: Array<Record<string, unknown>>; changes: Array<Change<AssignmentRecord>> } {
  const keys = new Keys(`/prefix-cache-test-${++n}/`);
  const warnings: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) warnings.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const cache = new PrefixCache(client, keys.machineAssignmentsPrefix(M), recordDecoders(keys).assignment, pino({ level: 'warn' }, sink));
  const changes: Array<Change<AssignmentRecord>> = [];
  cache.onChange((c) => changes.push(c));
  return { keys, cache, warnings, changes };
}

const valid = (unit: string) => encode({ unit, hash: H, desired: 'launched' });

test('a malformed value is listed by key, warned about once per revision, and its changes are reported', async () => {
  const { keys, cache, warnings, changes } = cacheOnFreshPrefix();
  const good = keys.assignment(M, 'good.service');
  const bad = keys.assignment(M, 'bad.service');
  await client.put(good).value(valid('good.service'));
  await client.put(bad).value('{"unit": "bad.service", "hash": "not-a-hash"}');
  await cache.start();
  try {
    assert.deepEqual([...cache.values()].map((e) => e.value.unit), ['good.service']);
    assert.deepEqual([...cache.malformed()].map((m) => m.key), [bad]);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.key, bad);

    // Re-reading the same revision says nothing new.
    await cache.refresh();
    assert.equal(warnings.length, 1);

    // A valid entry turning into garbage: no entry any more, listed as malformed, reported as a delete.
    await client.put(good).value('garbage');
    await waitFor('good.service malformed', () => ([...cache.malformed()].some((m) => m.key === good) ? true : undefined), { timeoutMs: 5000 });
    assert.equal(cache.get(good), undefined);
    assert.ok(changes.some((c) => c.type === 'delete' && c.key === good && c.previous?.value.unit === 'good.service'));
    assert.equal(warnings.length, 2);

    // A new revision of garbage is news again; the key's deletion ends it.
    await client.put(bad).value('still garbage');
    await waitFor('second warning for bad.service', () => (warnings.length === 3 ? true : undefined), { timeoutMs: 5000 });
    await client.delete().key(bad);
    await waitFor('bad.service gone', () => ([...cache.malformed()].every((m) => m.key !== bad) ? true : undefined), { timeoutMs: 5000 });
    assert.ok(changes.some((c) => c.type === 'delete' && c.key === bad && c.previous === undefined));

    // Readable again: an entry, not malformed.
    await client.put(good).value(valid('good.service'));
    await waitFor('good.service readable', () => (cache.get(good) ? true : undefined), { timeoutMs: 5000 });
    assert.deepEqual([...cache.malformed()], []);
  } finally {
    await cache.close();
  }
});

test('a storm of garbage is summarised, not logged key by key', async () => {
  const { keys, cache, warnings } = cacheOnFreshPrefix();
  const puts = Array.from({ length: 50 }, (_, i) => ({ request_put: { key: Buffer.from(keys.assignment(M, `u${i}.service`)), value: Buffer.from('{}') } }));
  await client.kv.txn({ compare: [], success: puts, failure: [] });
  await cache.start();
  try {
    assert.equal([...cache.malformed()].length, 50);
    assert.ok(warnings.length <= 11, `${warnings.length} warnings for 50 garbage keys`);
    assert.match(String(warnings.at(-1)?.msg), /counted, not logged/);
  } finally {
    await cache.close();
  }
});
