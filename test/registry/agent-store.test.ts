/**
 * The agent's store (what an agent may read, watch and write) against a real
 * etcd: writes go only to its own machine's keys and on its lease, a bid
 * lands only while its offer stands, the machine key is claimed only when
 * free or held by the lease named, and states of many units are written in
 * transactions etcd accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { Registry } from '../../src/registry/registry.js';
import { AgentStore, NotThisMachineError } from '../../src/registry/agent-store.js';
import { silentLogger } from '../../src/util/log.js';
import { encode, type BidRecord, type MachineRecord, type UnitStateRecord } from '../../src/registry/records.js';
import { etcdForTests } from '../support/etcd.js';

const ME = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const HASH = 'c'.repeat(40);
let client: Etcd3;
let n = 0;

function fresh(): { registry: Registry; store: AgentStore } {
  const registry = new Registry(client, `/agent-store-test-${++n}/`);
  return { registry, store: new AgentStore(registry, ME) };
}

etcdForTests('agent-store', (c) => (client = c));


const machine = (id: string): MachineRecord => ({ id, publicIP: '10.0.0.1', metadata: {}, version: 'test' });

function state(unit: string, machineId = ME): UnitStateRecord {
  return { unit, machineId, hash: 'h1', load: 'loaded', active: 'active', sub: 'running', applied: 'launched' };
}

async function leaseOf(key: string): Promise<string | undefined> {
  const res = await client.get(key).exec();
  return res.kvs[0] ? String(res.kvs[0].lease) : undefined;
}

test('machine key: claimed when free, not over a key on another lease, taken over only from the lease named', async () => {
  const { registry, store } = fresh();
  const key = registry.keys.machine(ME);
  const [l1, l2] = [client.lease(30), client.lease(30)];
  const [id1, id2] = [await l1.grant(), await l2.grant()];
  try {
    assert.equal(await store.putMachine(machine(ME), id1, { free: true, deadlineMs: 2000 }), true);
    assert.equal(await leaseOf(key), id1);
    assert.equal(await store.machineKeyLease(2000), id1);
    assert.equal(await store.putMachine(machine(ME), id2, { free: true, deadlineMs: 2000 }), false);
    assert.equal(await store.putMachine(machine(ME), id2, { heldBy: id2, deadlineMs: 2000 }), false);
    assert.equal(await leaseOf(key), id1);
    assert.equal(await store.putMachine(machine(ME), id2, { heldBy: id1, deadlineMs: 2000 }), true);
    assert.equal(await leaseOf(key), id2);
    await assert.rejects(store.putMachine(machine(OTHER), id2, { free: true, deadlineMs: 2000 }), NotThisMachineError);
    assert.equal((await client.get(registry.keys.machine(OTHER)).exec()).kvs.length, 0);
  } finally {
    await l1.revoke();
    await l2.revoke();
  }
  assert.equal(await store.machineKeyLease(2000), undefined);
});

test('bids: written on the lease while the offer stands, refused once it is gone, never for another machine', async () => {
  const { registry, store } = fresh();
  const lease = client.lease(30);
  const id = await lease.grant();
  try {
    const bid: BidRecord = { round: '7', machineId: ME, refuseContent: {}, refuseUnit: {}, load: 0, freeMemoryBytes: 1 };
    assert.equal(await store.putBid(bid, id), false, 'no offer yet');
    assert.equal((await client.get(registry.keys.bid('7', ME)).exec()).kvs.length, 0);
    await client.put(registry.keys.offer('7')).value('{}');
    assert.equal(await store.putBid(bid, id), true);
    assert.equal(await leaseOf(registry.keys.bid('7', ME)), id);
    await assert.rejects(store.putBid({ ...bid, machineId: OTHER }, id), NotThisMachineError);
  } finally {
    await lease.revoke();
  }
});

test('states: many units in one call (more than one transaction holds), deletes, all on the lease; another machine\'s refused', async () => {
  const { registry, store } = fresh();
  const lease = client.lease(30);
  const id = await lease.grant();
  try {
    const units = Array.from({ length: 250 }, (_, i) => `u${i}.service`);
    await store.writeStates(id, units.map((u) => state(u)), []);
    const res = await client.getAll().prefix(registry.keys.prefix).exec();
    assert.equal(res.kvs.length, 250);
    assert.ok(res.kvs.every((kv) => String(kv.lease) === id));
    assert.equal((await client.get(registry.keys.state('u3.service', ME)).string()), encode(state('u3.service')));
    await store.writeStates(id, [state('u0.service')], units.slice(1));
    assert.deepEqual((await client.getAll().prefix(registry.keys.prefix).keys()).sort(), [registry.keys.state('u0.service', ME)]);
    await assert.rejects(store.writeStates(id, [state('x.service', OTHER)], []), NotThisMachineError);
    assert.equal((await client.get(registry.keys.state('x.service', OTHER)).exec()).kvs.length, 0);
  } finally {
    await lease.revoke();
  }
});

test('watches only its own prefixes: its assignments and metadata, not another machine\'s', async () => {
  const { registry, store } = fresh();
  const keys = registry.keys;
  await client.put(keys.assignment(ME, 'a.service')).value(encode({ unit: 'a.service', hash: HASH, desired: 'launched' }));
  await client.put(keys.assignment(OTHER, 'b.service')).value(encode({ unit: 'b.service', hash: HASH, desired: 'launched' }));
  await client.put(keys.machineMetadata(ME, 'rack')).value('r1');
  await client.put(keys.machineMetadata(OTHER, 'rack')).value('r2');
  const log = silentLogger();
  const assignments = store.ownAssignments(log);
  const metadata = store.ownMetadata(log);
  try {
    await Promise.all([assignments.start(), metadata.start()]);
    assert.deepEqual([...assignments.values()].map((e) => e.value.unit), ['a.service']);
    assert.equal([...assignments.malformed()].length, 0);
    assert.deepEqual([...metadata.values()].map((e) => e.value), ['r1']);
  } finally {
    await assignments.close();
    await metadata.close();
  }
});
