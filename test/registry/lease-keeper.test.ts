/**
 * LeaseKeeper against a real etcd: it renews, it reports a lease etcd says
 * is gone, and it keeps its lease across a whole-store outage longer than
 * 2 x TTL (where etcd3's own Lease would have given it up).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { LeaseKeeper } from '../../src/registry/lease-keeper.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';

const TTL = 2;
let dir = '';
let etcd: EtcdCluster;
let client: Etcd3;

before(async () => {
  dir = await mkdtemp('/tmp/fl-lease-');
  etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
  client = connectStore({ endpoints: etcd.endpoints, requestTimeoutMs: 1000, dialTimeoutMs: 1000 });
});

after(async () => {
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A running keeper on a fresh lease, and the events it emits, in order. */
async function started(): Promise<{ keeper: LeaseKeeper; seen: string[] }> {
  const keeper = await LeaseKeeper.grant(client, TTL, silentLogger());
  const seen: string[] = [];
  keeper.on('renewed', () => seen.push('renewed'));
  keeper.on('silent', () => seen.push('silent'));
  keeper.on('expired', () => seen.push('expired'));
  keeper.start();
  return { keeper, seen };
}

test('renews: keys on the lease outlive several TTLs', async () => {
  const { keeper, seen } = await started();
  try {
    await client.put('/lk/renews').value('x').lease(keeper.id);
    const until = Date.now() + 2 * TTL * 1000;
    await waitFor('two TTLs', () => (Date.now() > until ? true : undefined), { timeoutMs: 4 * TTL * 1000, intervalMs: 100 });
    assert.equal(await client.get('/lk/renews').string(), 'x');
    assert.ok(seen.filter((e) => e === 'renewed').length >= 4, seen.join(','));
    assert.deepEqual(seen.filter((e) => e !== 'renewed'), []);
  } finally {
    await keeper.revoke();
  }
  assert.equal(await client.get('/lk/renews').string(), null);
});

test('expired: reported once etcd says the lease is gone', async () => {
  const { keeper, seen } = await started();
  // Revoked behind its back, as an expiry during a partition would look on return.
  await client.leaseClient.leaseRevoke({ ID: keeper.id });
  await waitFor('expired', () => (seen.includes('expired') ? true : undefined), { timeoutMs: 2 * TTL * 1000 });
});

test('a whole-store outage of 3 x TTL: silent, then renewed with the same lease, never expired', async () => {
  const { keeper, seen } = await started();
  try {
    await client.put('/lk/outage').value('x').lease(keeper.id);
    await etcd.killAll();
    await waitFor('silent', () => (seen.includes('silent') ? true : undefined), { timeoutMs: 2 * TTL * 1000 });
    const downUntil = Date.now() + 3 * TTL * 1000;
    await waitFor('three TTLs of outage', () => (Date.now() > downUntil ? true : undefined), { timeoutMs: 4 * TTL * 1000, intervalMs: 100 });
    const renewalsBefore = seen.filter((e) => e === 'renewed').length;
    await etcd.restartAll();
    await waitFor('renewed after the outage', () => (seen.filter((e) => e === 'renewed').length > renewalsBefore ? true : undefined), { timeoutMs: TTL * 1000 });
    const after = Date.now() + 2 * TTL * 1000;
    await waitFor('two more TTLs', () => (Date.now() > after ? true : undefined), { timeoutMs: 3 * TTL * 1000, intervalMs: 100 });
    assert.ok(!seen.includes('expired'), seen.join(','));
    assert.equal(await client.get('/lk/outage').string(), 'x');
  } finally {
    await keeper.revoke();
  }
});

test('a starved process is quiet as soon as 2/3 of the TTL have passed, before any late timer runs', async () => {
  const { keeper, seen } = await started();
  try {
    await waitFor('a first renewal', () => (seen.includes('renewed') ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
    assert.equal(keeper.checkAndReportSilence(), false);
    // Block the event loop past 2/3 of the TTL: no timer and no keepalive answer can run meanwhile.
    const blockedUntil = performance.now() + (TTL * 1000 * 2) / 3 + 100;
    while (performance.now() < blockedUntil) { /* starve */ }
    assert.equal(keeper.checkAndReportSilence(), true, 'quiet by the clock, not by a timer');
    assert.equal(seen.at(-1), 'silent', 'silent was emitted at once');
    await waitFor('etcd to confirm the lease again', () => (seen.at(-1) === 'renewed' ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
    assert.equal(keeper.checkAndReportSilence(), false);
  } finally {
    await keeper.revoke();
  }
});
