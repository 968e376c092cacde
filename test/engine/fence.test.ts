/** Fencing and election against a real etcd: a deposed engine cannot write. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { EngineStore, PreconditionFailed } from '../../src/registry/engine-store.js';
import { when, Writes } from '../../src/registry/txn.js';
import { Election } from '../../src/engine/election.js';
import type { Fence } from '../../src/engine/fence.js';
import { FencedWriteError } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';

let etcd: EtcdCluster;
let client: Etcd3;

before(async () => {
  etcd = await startEtcd({ dir: await mkdtemp('/tmp/fl-fence-'), members: 1 });
  client = connectStore({ endpoints: etcd.endpoints });
});

const registry = (): Registry => new Registry(client, '/fence-test/');
const fencedWrite = (fence: Fence, key: string, value: string): Promise<number> => new EngineStore(registry()).fencedWrite(fence, new Writes().put(key, value));

after(async () => {
  client?.close();
  await etcd?.stop();
});

async function campaign(machineId: string): Promise<{ election: Election; lease: ReturnType<Etcd3['lease']>; fences: Fence[] }> {
  const lease = client.lease(5);
  const id = await lease.grant();
  const election = new Election(registry(), machineId, silentLogger());
  const fences: Fence[] = [];
  election.on('elected', (f) => fences.push(f));
  await election.campaign(id);
  return { election, lease, fences };
}

test('the first candidate leads; its successor leads once it resigns; the old fence no longer writes', async () => {
  const a = await campaign('a'.repeat(32));
  const b = await campaign('b'.repeat(32));
  assert.equal(a.election.isLeader, true);
  assert.equal(b.election.isLeader, false);
  const oldFence = a.fences[0];
  assert.ok(oldFence);
  await fencedWrite(oldFence, '/fence-test/x', '1');
  assert.equal(await client.get('/fence-test/x').string(), '1');

  await a.election.resign();
  await waitFor('b elected', () => (b.election.isLeader ? true : undefined), { timeoutMs: 5000 });
  await assert.rejects(fencedWrite(oldFence, '/fence-test/x', '2'), FencedWriteError);
  assert.equal(await client.get('/fence-test/x').string(), '1', 'a deposed engine changed the store');
  const newFence = b.fences[0];
  assert.ok(newFence);
  await fencedWrite(newFence, '/fence-test/x', '3');
  assert.equal(await client.get('/fence-test/x').string(), '3');
  await b.election.resign();
  await a.lease.revoke();
  await b.lease.revoke();
});

test('a leader whose lease is revoked loses the fence; the other candidate takes over', async () => {
  const a = await campaign('c'.repeat(32));
  const b = await campaign('d'.repeat(32));
  const fence = a.fences[0];
  assert.ok(fence);
  await a.lease.revoke();
  await waitFor('b elected', () => (b.election.isLeader ? true : undefined), { timeoutMs: 5000 });
  await assert.rejects(fencedWrite(fence, '/fence-test/y', '1'), FencedWriteError);
  assert.equal(await client.get('/fence-test/y').string(), null);
  await a.election.resign();
  await b.election.resign();
  await b.lease.revoke();
});

test("a write of several chunks whose own condition fails midway says what it had committed (the engine waits for it), and the fence still holds", async () => {
  const a = await campaign('e'.repeat(32));
  const fence = a.fences[0];
  assert.ok(fence);
  const store = new EngineStore(registry());
  // Chunk one (100 ops, keys in order) puts a key under r/, which breaks chunk two's condition.
  const w = new Writes();
  for (let i = 0; i < 99; i++) w.put(`/fence-test/a${String(i).padStart(3, '0')}`, '1');
  w.put('/fence-test/r/x', '1');
  for (let i = 0; i < 10; i++) w.put(`/fence-test/z${i}`, '1');
  const now = (await client.get('/fence-test/none').exec()).header.revision;
  const err = await store.fencedWrite(fence, w, [when.unchangedSince('/fence-test/r/', Number(now))]).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof PreconditionFailed, String(err));
  const firstChunk = Number((await client.get('/fence-test/r/x').exec()).kvs[0]?.mod_revision);
  assert.equal(err.committedAt, firstChunk);
  assert.equal(await client.get('/fence-test/a098').string(), '1');
  assert.equal(await client.get('/fence-test/z0').string(), null);
  await a.election.resign();
  await a.lease.revoke();
});
