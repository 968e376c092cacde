/**
 * Engine unit tests against a REAL etcd: the engine is the real one, the
 * agents are played by the test (test/engine/support/harness.ts), so only
 * the engine's decisions and writes are under test. Each test uses its own
 * key prefix on one shared etcd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { type EngineHarness, machineId } from './support/harness.js';
import { engineFixture } from './support/etcd-fixture.js';

const fixture = engineFixture('engine');
const harness = fixture.harness;
const M1 = machineId('1');
const M2 = machineId('2');
const M3 = machineId('3');

test('a one-way conflict keeps the second unit waiting with its reason; destroying the first places it promptly', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.submit('a.service');
    await h.placed('a.service', [M1]);
    await h.submit('b.service', ['Conflicts=a.service']);
    const r = await h.unplaced('b.service');
    assert.deepEqual(r.reasons, { [M1]: 'conflicts with a.service' });
    assert.equal(await h.settled(), true);
    const rev = (await fixture.client().get(h.registry.keys.unplaced('b.service')).exec()).kvs[0]?.mod_revision;
    await h.engine.reconcileNow();
    assert.equal((await fixture.client().get(h.registry.keys.unplaced('b.service')).exec()).kvs[0]?.mod_revision, rev, 'identical unplaced record rewritten');

    await h.registry.destroyUnit('a.service');
    await h.placed('b.service', [M1]);
    await h.noUnplaced('b.service');
  } finally {
    await h.stop();
  }
});

test("no live machine: reason '*'; a machine joining places the unit and removes the record", async () => {
  const h = await harness();
  try {
    await h.submit('lonely.service');
    const r = await h.unplaced('lonely.service');
    assert.deepEqual(r.reasons, { '*': 'no machine is live' });
    await h.join(M1);
    await h.placed('lonely.service', [M1]);
    await h.noUnplaced('lonely.service');
  } finally {
    await h.stop();
  }
});

test('a unit whose content is missing from the store is reported and never offered', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    await fixture.client().put(h.registry.keys.unit('ghost.service')).value(JSON.stringify({ name: 'ghost.service', hash: 'f'.repeat(40), desired: 'launched' })).exec();
    const r = await h.unplaced('ghost.service');
    assert.deepEqual(r.reasons, { '*': 'unit content not found in the store' });
    assert.equal(await h.settled(), true);
    assert.equal(a1.offeredTimes('ghost.service'), 0);
  } finally {
    await h.stop();
  }
});

test('machine metadata changes so MachineMetadata no longer matches: the unit moves, its follower with it', async () => {
  const h = await harness();
  try {
    await h.join(M1, { role: 'db' });
    await h.join(M2, { role: 'web' });
    await h.submit('db.service', ['MachineMetadata=role=db']);
    await h.placed('db.service', [M1]);
    await h.submit('backup.service', ['MachineOf=db.service']);
    await h.placed('backup.service', [M1]);
    await h.registry.setMachineMetadata(M2, 'role', 'db');
    assert.equal(await h.settled(), true, 'a matching machine appearing moved nothing');
    await h.registry.setMachineMetadata(M1, 'role', 'web');
    await h.placed('db.service', [M2]);
    await h.placed('backup.service', [M2]);
    // An empty dynamic value removes the key: now no machine has role=db... except M2's dynamic one.
    await h.registry.removeMachineMetadata(M2, 'role');
    const r = await h.unplaced('db.service');
    assert.equal(r.reasons[M2], 'MachineMetadata requires role=db; machine has no role');
    assert.equal(r.reasons[M1], 'MachineMetadata requires role=db; machine has role=web');
    await h.unplaced('backup.service', (u) => u.reasons[M2] === 'requires peer db.service, which is not on this machine');
  } finally {
    await h.stop();
  }
});

test("a host's refusal is not offered again until that machine's metadata changes", async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    a1.refuse.set('kvm.service', 'ConditionPathExists=/dev/kvm failed');
    await h.submit('kvm.service', [], 'launched', ['ConditionPathExists=/dev/kvm']);
    const r = await h.unplaced('kvm.service');
    assert.deepEqual(r.reasons, { [M1]: 'ConditionPathExists=/dev/kvm failed' });
    assert.equal(await h.settled(), true);
    assert.equal(a1.offeredTimes('kvm.service'), 1);
    a1.refuse.clear();
    await h.registry.setMachineMetadata(M1, 'kvm', 'yes');
    await h.placed('kvm.service', [M1]);
    await h.noUnplaced('kvm.service');
  } finally {
    await h.stop();
  }
});

test('global units run on every machine that accepts them, on machines that join later, and conflicting globals never share one', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    await h.join(M2);
    a1.refuse.set('g.service', 'not here');
    await h.submit('g.service', ['Global=true'], 'launched', ['ConditionPathExists=/etc']);
    await h.placed('g.service', [M2]);
    await h.join(M3);
    await h.placed('g.service', [M2, M3]);
    await h.submit('h.service', ['Global=true', 'Conflicts=g.service']);
    await h.placed('h.service', [M1]);
    assert.equal(await h.settled(), true);
    await h.noUnplaced('g.service');
  } finally {
    await h.stop();
  }
});

test('Replaces: the replacer lands on the replaced unit, which moves to a machine whose rules it meets', async () => {
  const h = await harness();
  try {
    await h.join(M1, { role: 'a' });
    await h.submit('old.service', ['MachineMetadata=role=a', 'MachineMetadata=role=b']);
    await h.placed('old.service', [M1]);
    await h.join(M2, { role: 'b' });
    await h.join(M3, { role: 'c' });
    await h.submit('new.service', ['Replaces=old.*', 'MachineMetadata=role=a']);
    await h.placed('new.service', [M1]);
    await h.placed('old.service', [M2]);
    assert.equal(await h.settled(), true);
    const moved = h.logs.find((l) => l.msg === 'moving unit');
    assert.equal(moved?.reason, 'replaced by new.service, which is on this machine');
  } finally {
    await h.stop();
  }
});

test('Replaces: when a host refusal sends the replacer onto the replaced unit, that unit moves in the same round', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.submit('old.service');
    await h.placed('old.service', [M1]);
    const a2 = await h.join(M2);
    // The engine would pick the emptier M2 for new.service; its host refuses, so it lands on M1.
    a2.refuse.set('new.service', 'no GPU here');
    await h.submit('new.service', ['Replaces=old.service']);
    await h.placed('new.service', [M1]);
    await h.placed('old.service', [M2]);
    const moved = h.logs.find((l) => l.msg === 'moving unit');
    assert.equal(moved?.to, M2, 'the replaced unit was unplaced instead of moved');
  } finally {
    await h.stop();
  }
});

test('circular Replaces already in the store does not flap', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.submit('a.service', ['Replaces=b.service']);
    await h.submit('b.service', ['Replaces=a.service']);
    await h.placed('a.service', [M1]);
    await h.placed('b.service', [M1]);
    for (let i = 0; i < 3; i++) assert.equal(await h.settled(), true);
    assert.equal(h.engine.stats.unitsUnscheduled, 0);
    assert.equal(h.engine.stats.unitsMoved, 0);
    assert.ok(h.logs.some((l) => l.msg === 'these units replace each other in a cycle: their Replaces are ignored'));
  } finally {
    await h.stop();
  }
});

test('MachineID changed by replacing the unit: it moves; set inactive: its unplaced record goes', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.join(M2);
    await h.submit('pin.service', [`MachineID=${M1}`]);
    await h.placed('pin.service', [M1]);
    await h.submit('pin.service', [`MachineID=${M2.slice(0, 8)}`]);
    await h.placed('pin.service', [M2]);
    await h.submit('pin.service', ['MachineID=0123456789abcdef0123456789abcdef']);
    await h.placed('pin.service', []);
    const r = await h.unplaced('pin.service');
    assert.equal(r.reasons[M1], 'MachineID is 0123456789abcdef0123456789abcdef, not this machine');
    await h.registry.setDesiredState('pin.service', 'inactive');
    await h.noUnplaced('pin.service');
  } finally {
    await h.stop();
  }
});

test('MachineOf cycle: unplaceable with a reason; peers placed in the same round go together', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.join(M2);
    await h.submit('x.service', ['MachineOf=y.service']);
    await h.submit('y.service', ['MachineOf=x.service']);
    // Until y.service is stored, x.service only lacks its peer; then the cycle is the reason.
    const cycle = 'MachineOf cycle among x.service, y.service: none of them can be placed first';
    const r = await h.unplaced('x.service', (u) => u.reasons[M1] === cycle);
    assert.equal(r.reasons[M2], cycle);
    await h.unplaced('y.service', (u) => u.reasons[M1] === cycle);
    await h.submit('follower.service', ['MachineOf=peer.service']);
    await h.submit('peer.service');
    await waitTogether(h, 'follower.service', 'peer.service');
  } finally {
    await h.stop();
  }
});

test('a dead host: its units move, followers with their peer; rounds report their cost in debug logs', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    await h.submit('p.service', [`MachineID=${M1}`]);
    await h.placed('p.service', [M1]);
    await h.join(M2);
    await h.submit('f.service', ['MachineOf=p.service']);
    // Checked content goes through a round, whose cost is logged.
    await h.submit('free.service', [], 'launched', ['ConditionPathExists=/etc']);
    await h.placed('f.service', [M1]);
    await a1.leave();
    await h.placed('free.service', [M2]);
    await h.unplaced('f.service', (u) => u.reasons[M2] === 'requires peer p.service, which is not on this machine');
    const round = h.logs.find((l) => l.msg === 'round resolved');
    assert.ok(round, 'no round debug log');
    for (const k of ['offered', 'bids', 'placed', 'moved', 'unplaced', 'engineRequests', 'ms']) assert.equal(typeof round[k], 'number', k);
    assert.ok(h.engine.stats.etcdRequests > 0 && h.engine.stats.rounds > 0);
  } finally {
    await h.stop();
  }
});

async function waitTogether(h: EngineHarness, a: string, b: string): Promise<void> {
  const { waitFor } = await import('../../src/util/deadline.js');
  await waitFor(`${a} with ${b}`, async () => {
    const p = await h.placement();
    const x = p.get(a)?.join();
    return x !== undefined && x === p.get(b)?.join() ? true : undefined;
  }, { timeoutMs: 5000 });
}

test('OnDisconnect=stop: a unit of a machine whose lease is gone is placed again only after the grace', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    await h.submit('single.service', ['OnDisconnect=stop']);
    await h.submit('plain.service');
    await h.placed('single.service', [M1]);
    await h.placed('plain.service', [M1]);
    await h.join(M2);
    const left = Date.now();
    await a1.leave();
    // The keep unit moves at once; the stop unit waits out 0.6 x the machine's TTL (10 s here).
    await h.placed('plain.service', [M2]);
    assert.deepEqual((await h.placement()).get('single.service'), [M1], 'stop unit re-placed before the grace');
    await h.placed('single.service', [M2], 15_000);
    assert.ok(Date.now() - left >= 6000 - 100, `re-placed after ${Date.now() - left} ms, before the 6 s grace`);
  } finally {
    await h.stop();
  }
});

test('a stored unit over a limit is not placed and says why; a copy already running stays where it runs', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.join(M2);
    const conflicts = Array.from({ length: 65 }, (_, i) => `c${i}.service`).join(' ');
    // Stored around flotctl (or before the limit existed): the same content twice.
    await h.submit('big.service', [`Conflicts=${conflicts}`]);
    const r = await h.unplaced('big.service');
    assert.deepEqual(r.reasons, {
      '*': 'over a limit: [X-Fleet] Conflicts has 65 values; the limit is 64: use a glob that covers several units, or split the unit',
    });
    // A unit with over-limit content that an older engine placed on M1: unit and assignment appear at once.
    const file = UnitFile.parse(['[Unit]', 'Description=old', '[Service]', 'ExecStart=/bin/sleep infinity', '[X-Fleet]', `Conflicts=${conflicts}`].join('\n'));
    const k = h.registry.keys;
    const puts: Array<[string, string]> = [
      [k.content(file.hash()), file.serialize()],
      [k.unit('old.service'), encode({ name: 'old.service', hash: file.hash(), desired: 'launched' })],
      [k.assignment(M1, 'old.service'), encode({ unit: 'old.service', hash: file.hash(), desired: 'launched' })],
    ];
    await fixture.client().kv.txn({ compare: [], success: puts.map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } })), failure: [] });
    // A unit it names goes to M1 all the same: the over-limit patterns are not read.
    await h.submit('c1.service', [`MachineID=${M1}`]);
    await h.placed('c1.service', [M1]);
    assert.equal(await h.settled(), true);
    assert.deepEqual((await h.placement()).get('old.service'), [M1], `the engine's lines about old.service: ${JSON.stringify(h.logs.filter((l) => l.unit === 'old.service' || l.key?.toString().includes('old.service')))}`);
    assert.equal(await h.registry.getUnplaced('old.service'), undefined);
    assert.ok(h.logs.some((l) => l.msg === 'unit cannot be placed' && l.unit === 'old.service' && String(l.reason).startsWith('over a limit')));
  } finally {
    await h.stop();
  }
});

test('an oversized or unparsable stored content is reported, not parsed into the engine', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    const huge = `[Service]\nExecStart=/bin/true\n${'Environment=A=1\n'.repeat(20_000)}`;
    const hash = UnitFile.parse(huge).hash();
    await h.registry.putUnit({ name: 'huge.service', hash, desired: 'launched' }, UnitFile.parse(huge).serialize());
    const r = await h.unplaced('huge.service');
    assert.match(r.reasons['*'] ?? '', /^over a limit: unit file is 3\d\d KiB; the limit is 256 KiB/);
  } finally {
    await h.stop();
  }
});
