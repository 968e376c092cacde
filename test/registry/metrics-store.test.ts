/**
 * The metrics' view of the store against a real etcd: every unit record and
 * every machine's states, decoded and followed, nothing else under the
 * prefix; and the hook on failed requests, against an endpoint that never
 * answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { Keys } from '../../src/registry/keys.js';
import { metricsStoreOver } from '../../src/registry/metrics-store.js';
import { Registry } from '../../src/registry/registry.js';
import { waitFor } from '../../src/util/deadline.js';
import { silentLogger } from '../../src/util/log.js';
import { etcdForTests } from '../support/etcd.js';
import { connectStore } from '../../src/registry/store.js';

let client: Etcd3;
const keys = new Keys('/metrics-store-test/');
const M = 'a'.repeat(32);
const H = 'b'.repeat(40);
const unit = (name: string): string => JSON.stringify({ name, hash: H, desired: 'launched' });
const state = (name: string, active: string): string => JSON.stringify({ unit: name, machineId: M, hash: H, load: 'loaded', active, sub: 'x', applied: 'launched' });

etcdForTests('metrics-store', (c) => (client = c));


test('unit records and states: read once, then followed; other keys and garbage are not entries', async () => {
  await client.put(keys.unit('a.service')).value(unit('a.service')).exec();
  await client.put(keys.unit('bad.service')).value('{').exec();
  await client.put(keys.state('a.service', M)).value(state('a.service', 'activating')).exec();
  await client.put(keys.content(H)).value('[Service]\n').exec();
  const store = metricsStoreOver(new Registry(client, keys.prefix));
  assert.equal(store.keys.prefix, keys.prefix);
  const units = store.allUnitRecords(silentLogger());
  const states = store.allUnitStates(silentLogger());
  try {
    await units.start();
    await states.start();
    assert.deepEqual([...units.values()].map((e) => e.value.name), ['a.service']);
    assert.deepEqual([...states.values()].map((e) => `${e.value.unit} ${e.value.active}`), ['a.service activating']);
    await client.put(keys.unit('b.service')).value(unit('b.service')).exec();
    await client.put(keys.state('a.service', M)).value(state('a.service', 'active')).exec();
    await waitFor('both changes followed', () => (units.size === 2 && [...states.values()][0]?.value.active === 'active' ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
  } finally {
    await Promise.all([units.close(), states.close()]);
  }
});

test('onRequestError: every failed request attempt is reported with its error', async () => {
  // Nothing listens on port 9 of loopback: every attempt fails fast.
  const dead = connectStore({ endpoints: ['http://127.0.0.1:9'], requestTimeoutMs: 300, dialTimeoutMs: 300 });
  const errors: unknown[] = [];
  try {
    assert.equal(metricsStoreOver(new Registry(dead)).onRequestError((err) => errors.push(err)), true);
    await assert.rejects(dead.get('x').exec());
    assert.ok(errors.length > 0 && errors.every((e) => e instanceof Error), String(errors));
  } finally {
    dead.close();
  }
});
