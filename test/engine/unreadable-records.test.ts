/**
 * The engine and records it cannot read, against a REAL etcd with the agents
 * played by the test: an assignment that stops decoding is rewritten where
 * it stands (the unit is not placed a second time elsewhere), a key that
 * names nothing is deleted, and a machine's absurd TTL cannot hold an
 * OnDisconnect=stop unit back for years.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, GRACE_FRACTION } from '../../src/engine/cluster-state.js';
import { TTL_SECONDS_MAX, decodeAssignment, encode } from '../../src/registry/records.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { machineId } from './support/harness.js';
import { engineFixture } from './support/etcd-fixture.js';

const fixture = engineFixture('unreadable');
const M1 = machineId('1');
const M2 = machineId('2');

test('an assignment whose value became garbage is rewritten on its machine, not placed again elsewhere', async () => {
  const h = await fixture.harness();
  try {
    const agents = new Map([[M1, await h.join(M1)], [M2, await h.join(M2)]]);
    await h.submit('web.service');
    const placed = await waitFor('web.service placed', async () => (await h.placement()).get('web.service'), { timeoutMs: 5000 });
    assert.equal(placed.length, 1);
    const machine = placed[0] as string;
    // Were the unit placed afresh, it would have to go to the other machine.
    agents.get(machine)?.refuse.set('web.service', 'would refuse it now');
    const key = h.registry.keys.assignment(machine, 'web.service');
    await h.registry.etcd.put(key).value('{"unit": "web.service", "hash": "corrupt"');
    const repaired = await waitFor('assignment readable again', async () => {
      const text = await h.registry.etcd.get(key).string();
      return text !== null ? decodeAssignment(text) : undefined;
    }, { timeoutMs: 5000 });
    assert.equal(repaired.unit, 'web.service');
    assert.equal(repaired.desired, 'launched');
    assert.equal(await h.settled(), true);
    assert.deepEqual((await h.placement()).get('web.service'), [machine]);
  } finally {
    await h.stop();
  }
});

test('an assignment key that names no machine and unit is deleted; one for a destroyed unit too', async () => {
  const h = await fixture.harness();
  try {
    await h.join(M1);
    const nameless = `${h.registry.keys.machineAssignmentsPrefix(M1)}x/../../evil.service`;
    const orphan = h.registry.keys.assignment(M1, 'gone.service');
    await h.registry.etcd.put(nameless).value(encode({ unit: 'evil.service', hash: 'a'.repeat(40), desired: 'launched' }));
    await h.registry.etcd.put(orphan).value('garbage');
    await h.submit('kick.service'); // anything that makes the engine reconcile
    await waitFor('both keys deleted', async () => {
      const [a, b] = await Promise.all([h.registry.etcd.get(nameless).string(), h.registry.etcd.get(orphan).string()]);
      return a === null && b === null ? true : undefined;
    }, { timeoutMs: 5000 });
  } finally {
    await h.stop();
  }
});

test('a machine record claiming a TTL of 1e12 s holds its OnDisconnect=stop units back at most as long as the longest real TTL', async () => {
  const etcd = fixture.client();
  const h = await fixture.harness();
  const state = new ClusterState(h.registry, silentLogger());
  try {
    await state.start();
    const lease = etcd.lease(10);
    const leaseId = await lease.grant();
    await etcd.put(h.registry.keys.machine(M1)).value(encode({ id: M1, publicIP: '', metadata: {}, version: 't', ttlSeconds: 1e12 })).lease(leaseId);
    await waitFor('machine seen', () => (state.isLive(M1) ? true : undefined), { timeoutMs: 5000 });
    await lease.revoke();
    await waitFor('machine gone', () => (state.isLive(M1) ? undefined : true), { timeoutMs: 5000 });
    const waitMs = (state.stopDeadline(M1) ?? Infinity) - Date.now();
    assert.ok(waitMs <= TTL_SECONDS_MAX * 1000 * GRACE_FRACTION, `held back for ${waitMs} ms`);
  } finally {
    await state.close();
    await h.stop();
  }
});
