import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { portIsFree } from '../../src/dev/ports.js';
import { isRunning, pidsWithArgs } from '../../src/dev/procs.js';

async function healthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/health`);
  return ((await res.json()) as { health: string }).health === 'true';
}

async function assertGone(etcd: EtcdCluster): Promise<void> {
  for (const m of etcd.members) {
    assert.deepEqual(await pidsWithArgs(['--data-dir', m.dataDir]), [], `${m.name} still runs`);
    for (const url of [m.clientUrl, m.peerUrl]) assert.ok(await portIsFree(Number(new URL(url).port)), `${url} still bound`);
  }
}

test('one member: healthy, serves reads and writes, stop leaves nothing', async () => {
  const dir = await mkdtemp('/tmp/fl-');
  let etcd: EtcdCluster | undefined;
  try {
    const t = Date.now();
    etcd = await startEtcd({ dir, members: 1 });
    console.log(`# 1 member healthy in ${Date.now() - t} ms`);
    assert.equal(etcd.endpoints.length, 1);
    assert.ok(etcd.endpoints[0]?.startsWith('http://127.0.0.1:'));
    assert.notEqual(etcd.endpoints[0], 'http://127.0.0.1:2379');
    assert.ok(await healthy(etcd.endpoints[0] as string));
    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      await client.put('/t/k').value('v');
      assert.equal(await client.get('/t/k').string(), 'v');
    } finally {
      client.close();
    }
    await etcd.stop();
    await assertGone(etcd);
  } finally {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('three members: quorum survives killMember, restartMember rejoins with the data', async () => {
  const dir = await mkdtemp('/tmp/fl-');
  let etcd: EtcdCluster | undefined;
  try {
    const t = Date.now();
    etcd = await startEtcd({ dir, members: 3, fastElection: true });
    console.log(`# 3 members healthy in ${Date.now() - t} ms`);
    assert.equal(new Set(etcd.endpoints).size, 3);
    for (const url of etcd.endpoints) assert.ok(await healthy(url), url);

    const first = etcd.members[0];
    assert.ok(first);
    const oldPid = first.pid;
    await etcd.killMember(0);
    assert.equal(await isRunning(oldPid), false);

    // Written while member 0 is down, through the two that remain.
    const rest = new Etcd3({ hosts: etcd.endpoints.slice(1) });
    try {
      await rest.put('/t/while-down').value('yes');
    } finally {
      rest.close();
    }

    await etcd.restartMember(0);
    assert.notEqual(etcd.members[0]?.pid, oldPid);
    assert.ok(await healthy(etcd.endpoints[0] as string));
    const only0 = new Etcd3({ hosts: [etcd.endpoints[0] as string] });
    try {
      // A linearizable read on the restarted member sees what was committed while it was down.
      assert.equal(await only0.get('/t/while-down').string(), 'yes');
    } finally {
      only0.close();
    }

    await etcd.stop();
    await assertGone(etcd);
  } finally {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('three members: killAll then restartAll brings the whole store back with its data and leases', async () => {
  const dir = await mkdtemp('/tmp/fl-');
  let etcd: EtcdCluster | undefined;
  try {
    etcd = await startEtcd({ dir, members: 3, fastElection: true });
    const before = new Etcd3({ hosts: etcd.endpoints });
    let leaseId: string;
    try {
      leaseId = String((await before.leaseClient.leaseGrant({ TTL: 2 })).ID);
      await before.put('/t/on-lease').value('yes').lease(leaseId);
      await before.put('/t/plain').value('yes');
    } finally {
      before.close();
    }
    await etcd.killAll();
    for (const m of etcd.members) assert.deepEqual(await pidsWithArgs(['--data-dir', m.dataDir]), [], `${m.name} still runs`);
    // Down for longer than the lease's TTL: etcd cannot expire leases while it is down.
    await new Promise((r) => setTimeout(r, 2500));
    const t = Date.now();
    await etcd.restartAll();
    console.log(`# 3 members back and healthy in ${Date.now() - t} ms`);
    for (const url of etcd.endpoints) assert.ok(await healthy(url), url);
    const after = new Etcd3({ hosts: etcd.endpoints });
    try {
      assert.equal(await after.get('/t/plain').string(), 'yes');
      // The new leader gives every lease a fresh TTL: the agents' leases outlive a whole outage.
      const ttl = await after.leaseClient.leaseTimeToLive({ ID: leaseId });
      assert.ok(Number(ttl.TTL) > 0, `lease expired across the outage (TTL ${ttl.TTL})`);
      assert.equal(await after.get('/t/on-lease').string(), 'yes');
    } finally {
      after.close();
    }
  } finally {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
