/**
 * The agent's Bidder against a real etcd (an agent unit test: no engine, no
 * systemd). The test plays the engine: it stores units, writes offers and
 * reads the bids two simulated hosts write back, and sets dynamic metadata
 * as flotctl would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { AgentStore } from '../../src/registry/agent-store.js';
import { decodeBid, encode, type BidRecord } from '../../src/registry/records.js';
import { Bidder } from '../../src/agent/bidder.js';
import { ContentCache } from '../../src/agent/content-cache.js';
import { MachineMetadata } from '../../src/agent/metadata.js';
import type { HostFacts } from '../../src/conditions/host-facts.js';
import { UnitFile } from '../../src/unit/index.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { offerRecord, refusedUnits, type OfferedTestUnit } from '../support/offers.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
let dir = '';
let etcd: EtcdCluster;
let client: Etcd3;
let registry: Registry;
let seq = 0;

interface SimHost {
  id: string;
  bidder: Bidder;
  metadata: MachineMetadata;
  /** What the host reports as its load. */
  state: { load: number };
  stop(): Promise<void>;
}

before(async () => {
  dir = await mkdtemp('/tmp/fl-bids-');
  etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
  client = connectStore({ endpoints: etcd.endpoints });
  registry = new Registry(client, '/bids-test/');
  // Host A has KVM, host B does not: simulated hosts share this filesystem, each with its own root.
  await mkdir(join(dir, 'root-a/dev'), { recursive: true });
  await mkdir(join(dir, 'root-b/dev'), { recursive: true });
  await writeFile(join(dir, 'root-a/dev/kvm'), '');
});

after(async () => {
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function startHost(id: string, name: string, config: Record<string, string>): Promise<SimHost> {
  const log = silentLogger();
  const store = new AgentStore(registry, id);
  const metadata = new MachineMetadata(store, config, log);
  await metadata.start();
  const facts = async (): Promise<HostFacts> => ({
    machineId: id, hostname: name, metadata: metadata.current(), architecture: 'x86-64', kernelCommandLine: '',
    memoryBytes: 2 * 1024 ** 3, cpus: 2, environment: {}, root: join(dir, `root-${name}`),
  });
  const lease = client.lease(10);
  const leaseId = await lease.grant();
  const state = { load: 0 };
  const bidder = new Bidder(store, facts, new ContentCache(registry), () => state.load, log);
  metadata.onChange(() => bidder.reconsider());
  await bidder.start(leaseId);
  return {
    id, bidder, metadata, state,
    async stop() {
      await bidder.close();
      await metadata.close();
      await lease.revoke();
    },
  };
}

async function storeUnit(name: string, text: string): Promise<OfferedTestUnit> {
  const file = UnitFile.parse(text);
  await registry.putUnit({ name, hash: file.hash(), desired: 'launched' }, file.serialize());
  return { name, hash: file.hash(), file };
}

async function offer(units: OfferedTestUnit[]): Promise<string> {
  const round = `round-${++seq}`;
  await client.put(registry.keys.offer(round)).value(encode(offerRecord(round, units))).exec();
  return round;
}

/** What the host refuses of `units`, after its bid in `round`. */
async function refused(round: string, machine: string, units: OfferedTestUnit[], accept?: (r: Record<string, string>) => boolean): Promise<Record<string, string>> {
  return refusedUnits(await bid(round, machine, accept && ((b) => accept(refusedUnits(b, units)))), units);
}

async function bid(round: string, machine: string, accept?: (b: BidRecord) => boolean): Promise<BidRecord> {
  return waitFor(`bid of ${machine.slice(0, 4)} in ${round}`, async () => {
    const text = await client.get(registry.keys.bid(round, machine)).string();
    const b = text === null ? undefined : decodeBid(text);
    return b && (accept?.(b) ?? true) ? b : undefined;
  }, { timeoutMs: 5000 });
}

const service = (unitLines: string, xfleet = '') => `[Unit]\nDescription=t\n${unitLines}\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\n${xfleet}\n`;

test('each host refuses what it cannot run, with reasons, and accepts the rest', async () => {
  const a = await startHost(A, 'a', { hostname: 'a', region: 'us' });
  const b = await startHost(B, 'b', { hostname: 'b', region: 'eu' });
  try {
    a.state.load = 3;
    const units = [
      await storeUnit('plain.service', service('')),
      // Same content as plain.service: judged once, accepted or refused together.
      await storeUnit('plain-twin.service', service('')),
      await storeUnit('eu.service', service('', 'MachineMetadata=region=eu')),
      await storeUnit('vm.service', service('ConditionPathExists=/dev/kvm')),
      await storeUnit('agent.service', service('', 'Global=true\nMachineMetadata=region=us')),
      // Instances of one template, judged one name at a time (%i).
      await storeUnit('web@a.service', service('', 'MachineMetadata=hostname=%i')),
      await storeUnit('web@b.service', service('', 'MachineMetadata=hostname=%i')),
      { name: 'ghost.service', hash: '0'.repeat(40) },
      // Offered as content with nothing to check: accepted unread (its content is not even stored).
      { name: 'unread.service', hash: 'e'.repeat(40), file: UnitFile.parse(service('')) },
    ];
    const round = await offer(units);
    const record = offerRecord(round, units);
    assert.equal(record.contents.length, 7, 'one entry per distinct content');
    assert.deepEqual(record.contents.find((c) => c.hash === units[0]!.hash), { hash: units[0]!.hash, units: 2, hostChecks: false });
    assert.deepEqual(record.contents.find((c) => c.names)?.names, ['web@a.service', 'web@b.service']);
    const [bidA, bidB] = await Promise.all([bid(round, A), bid(round, B)]);
    assert.deepEqual(refusedUnits(bidA, units), {
      'eu.service': 'MachineMetadata requires region=eu; machine has region=us',
      'web@b.service': 'MachineMetadata requires hostname=b; machine has hostname=a',
      'ghost.service': 'unit content not found in the store',
    });
    assert.deepEqual(refusedUnits(bidB, units), {
      'vm.service': 'ConditionPathExists=/dev/kvm failed',
      'agent.service': 'MachineMetadata requires region=us; machine has region=eu',
      'web@a.service': 'MachineMetadata requires hostname=a; machine has hostname=b',
      'ghost.service': 'unit content not found in the store',
    });
    // Name-independent refusals are stated once per content, name-dependent ones per unit.
    assert.deepEqual(Object.keys(bidA.refuseContent).sort(), [units[2]!.hash, '0'.repeat(40)].sort());
    assert.deepEqual(bidA.refuseUnit, { 'web@b.service': 'MachineMetadata requires hostname=b; machine has hostname=a' });
    assert.equal(bidA.machineId, A);
    assert.equal(bidA.load, 3);
    assert.equal(bidB.load, 0);
    assert.ok(bidA.freeMemoryBytes > 0);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('bids use dynamic metadata from the store; it overrides config, an empty value removes a key, and it outlives the agent', async () => {
  let b = await startHost(B, 'b', { hostname: 'b', region: 'eu' });
  try {
    const us = await storeUnit('us.service', service('', 'MachineMetadata=region=us'));
    const r1 = await offer([us]);
    assert.equal((await refused(r1, B, [us]))['us.service'], 'MachineMetadata requires region=us; machine has region=eu');

    await registry.setMachineMetadata(B, 'region', 'us');
    await waitFor('metadata seen', () => (b.metadata.current().region === 'us' ? true : undefined), { timeoutMs: 5000 });
    assert.deepEqual(await refused(await offer([us]), B, [us]), {});

    await registry.removeMachineMetadata(B, 'region');
    await waitFor('metadata removal seen', () => (b.metadata.current().region === undefined ? true : undefined), { timeoutMs: 5000 });
    assert.equal((await refused(await offer([us]), B, [us]))['us.service'], 'MachineMetadata requires region=us; machine has no region');

    // The machine leaves (lease revoked) and rejoins: its dynamic metadata still applies.
    await registry.setMachineMetadata(B, 'region', 'us');
    await b.stop();
    b = await startHost(B, 'b', { hostname: 'b', region: 'eu' });
    assert.equal(b.metadata.current().region, 'us');
    assert.deepEqual(await refused(await offer([us]), B, [us]), {});
  } finally {
    await b.stop();
    await client.delete().prefix(registry.keys.machineMetadataPrefix(B)).exec();
  }
});

test('a metadata change answers a still-open round again with the new metadata', async () => {
  const a = await startHost(A, 'a', { hostname: 'a', region: 'us' });
  try {
    const gpu = await storeUnit('gpu.service', service('', 'MachineMetadata=gpu=yes'));
    const round = await offer([gpu]);
    assert.equal((await refused(round, A, [gpu]))['gpu.service'], 'MachineMetadata requires gpu=yes; machine has no gpu');
    await registry.setMachineMetadata(A, 'gpu', 'yes');
    assert.deepEqual(await refused(round, A, [gpu], (r) => r['gpu.service'] === undefined), {});
    // A resolved round (offer deleted) is not answered again.
    await client.delete().key(registry.keys.offer(round)).exec();
    await client.delete().key(registry.keys.bid(round, A)).exec();
    await registry.setMachineMetadata(A, 'gpu', 'no');
    await waitFor('metadata seen', () => (a.metadata.current().gpu === 'no' ? true : undefined), { timeoutMs: 5000 });
    await a.bidder.idle();
    assert.equal(await client.get(registry.keys.bid(round, A)).string(), null);
  } finally {
    await a.stop();
    await client.delete().prefix(registry.keys.machineMetadataPrefix(A)).exec();
  }
});
