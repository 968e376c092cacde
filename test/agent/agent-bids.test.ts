/**
 * A whole Agent against a real etcd, with an in-memory service manager in
 * place of systemd (an agent unit test: no engine runs; the test writes
 * assignments and offers as the engine would). Checks the wiring the Bidder
 * test cannot: the host root, the agent's own metadata watch, and the load
 * it reports for what is assigned to it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { decodeBid, encode, type BidRecord } from '../../src/registry/records.js';
import { Agent } from '../../src/agent/agent.js';
import { UnitFile } from '../../src/unit/index.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { MemoryUnitManager } from '../support/memory-unit-manager.js';
import { offerRecord, refusedUnits, type OfferedTestUnit } from '../support/offers.js';

const ID = 'c'.repeat(32);
let dir = '';
let etcd: EtcdCluster;
let client: Etcd3;
let registry: Registry;

before(async () => {
  dir = await mkdtemp('/tmp/fl-agent-bids-');
  etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
  client = connectStore({ endpoints: etcd.endpoints });
  registry = new Registry(client, '/agent-bids-test/');
  await mkdir(join(dir, 'root/dev'), { recursive: true });
});

after(async () => {
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function storeUnit(name: string, text: string): Promise<OfferedTestUnit> {
  const file = UnitFile.parse(text);
  await registry.putUnit({ name, hash: file.hash(), desired: 'launched' }, file.serialize());
  return { name, hash: file.hash(), file };
}

let seq = 0;
async function offer(units: OfferedTestUnit[]): Promise<string> {
  const round = `r-${++seq}`;
  await client.put(registry.keys.offer(round)).value(encode(offerRecord(round, units))).exec();
  return round;
}

function bid(round: string, accept: (b: BidRecord) => boolean = () => true): Promise<BidRecord> {
  return waitFor(`bid in ${round}`, async () => {
    const text = await client.get(registry.keys.bid(round, ID)).string();
    const b = text === null ? undefined : decodeBid(text);
    return b && accept(b) ? b : undefined;
  }, { timeoutMs: 5000 });
}

async function roundBid(units: OfferedTestUnit[]): Promise<BidRecord> {
  return bid(await offer(units));
}

async function roundRefusals(units: OfferedTestUnit[]): Promise<Record<string, string>> {
  return refusedUnits(await roundBid(units), units);
}

const service = (unitLines: string, xfleet = '') => `[Unit]\nDescription=t\n${unitLines}\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\n${xfleet}\n`;

test('an agent bids with its host root, its live metadata and its load (global units included)', async () => {
  const manager = new MemoryUnitManager();
  const agent = new Agent({
    registry,
    machine: { id: ID, publicIP: '127.0.0.1', metadata: { hostname: 'h1' }, version: 'test' },
    ttlSeconds: 5,
    unitsDirectory: join(dir, 'units'),
    manager,
    log: silentLogger(),
    hostRoot: join(dir, 'root'),
  });
  await agent.start();
  try {
    // Two units assigned here, one of them global: both count in the load.
    const worker = await storeUnit('worker.service', service(''));
    const global = await storeUnit('monitor.service', service('', 'Global=true'));
    for (const u of [worker, global]) {
      await client.put(registry.keys.assignment(ID, u.name)).value(encode({ unit: u.name, hash: u.hash, desired: 'launched' })).exec();
    }
    await waitFor('assigned units started', () => (manager.active.size === 2 ? true : undefined), { timeoutMs: 5000 });

    const kvm = await storeUnit('vm.service', service('ConditionPathExists=/dev/kvm'));
    const pinned = await storeUnit('pinned.service', service('', 'MachineMetadata=hostname=h1'));
    const firstRound = await offer([kvm, pinned]);
    const first = await bid(firstRound);
    assert.deepEqual(refusedUnits(first, [kvm, pinned]), { 'vm.service': 'ConditionPathExists=/dev/kvm failed' });
    assert.equal(first.load, 2);

    // The path appears under this host's root (not the real /dev): the next round accepts.
    await writeFile(join(dir, 'root/dev/kvm'), '');
    assert.deepEqual(await roundRefusals([kvm]), {});

    // Dynamic metadata set in the store, as `flotctl` would: the agent answers the
    // still-open first round again, and later rounds, with what the host is now.
    await registry.setMachineMetadata(ID, 'hostname', 'h9');
    const rebid = await bid(firstRound, (b) => refusedUnits(b, [pinned])['pinned.service'] !== undefined);
    assert.deepEqual(refusedUnits(rebid, [kvm, pinned]), {
      'pinned.service': 'MachineMetadata requires hostname=h1; machine has hostname=h9',
    });
    assert.equal((await roundRefusals([pinned]))['pinned.service'], 'MachineMetadata requires hostname=h1; machine has hostname=h9');

    // Unassigning one unit lowers the load once it is unloaded (its state goes last).
    const workerState = async () => (await registry.listStates('worker.service')).length;
    await waitFor('worker state published', async () => ((await workerState()) > 0 ? true : undefined), { timeoutMs: 5000 });
    await client.delete().key(registry.keys.assignment(ID, worker.name)).exec();
    await waitFor('worker unloaded', async () => ((await workerState()) === 0 ? true : undefined), { timeoutMs: 5000 });
    assert.equal(manager.active.has('worker.service'), false);
    assert.equal((await roundBid([kvm])).load, 1);
  } finally {
    await agent.stop({ keepUnits: false });
  }
});
