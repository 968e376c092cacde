/**
 * How the engine runs rounds at scale, against a REAL etcd with the agents
 * played by the test (test/engine/support/harness.ts): offers by content,
 * units joining an open round, and even shares when a machine is late.
 * Rounds are for content hosts must check (Conditions, MachineMetadata);
 * content with nothing to check is placed directly, without an offer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { type EngineHarness, machineId } from './support/harness.js';
import { engineFixture } from './support/etcd-fixture.js';

const fixture = engineFixture('rounds');
const harness = fixture.harness;
const M1 = machineId('1');
const M2 = machineId('2');
const M3 = machineId('3');

const worker = '[Service]\nExecStart=/bin/sleep infinity\n';
/** Content a host must check (a Condition line): it goes through a round. */
const checkedWorker = '[Unit]\nConditionPathExists=/etc\n[Service]\nExecStart=/bin/sleep infinity\n';
const pinnedByInstance = '[Service]\nExecStart=/bin/sleep infinity\n[X-Fleet]\nMachineMetadata=hostname=%i\n';
const checked = (desc: string) => `[Unit]\nDescription=${desc}\nConditionPathExists=/etc\n[Service]\nExecStart=/bin/sleep infinity\n`;
const hashOf = (text: string) => UnitFile.parse(text).hash();

async function perMachine(h: EngineHarness): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const machines of (await h.placement()).values()) for (const m of machines) out.set(m, (out.get(m) ?? 0) + 1);
  return out;
}

test('content with nothing for a host to check is placed directly: no offer, spread by load', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    const a2 = await h.join(M2);
    await h.submitAll(['w1', 'w2', 'w3', 'w4'].map((w) => ({ name: `${w}.service`, text: worker })));
    await waitFor('all four placed', async () => ([...(await h.placement()).values()].flat().length === 4 ? true : undefined), { timeoutMs: 5000 });
    assert.deepEqual(Object.fromEntries(await perMachine(h)), { [M1]: 2, [M2]: 2 });
    assert.equal(a1.offers.length + a2.offers.length, 0, 'an offer was written for content nobody checks');
    assert.equal(h.engine.stats.unitsPlacedDirectly, 4);
    assert.equal(await h.settled(), true);
  } finally {
    await h.stop();
  }
});

test('an offer names each content once; only checked content judged by name lists unit names; a refused content keeps all its units away', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1, { hostname: 'a' });
    const a2 = await h.join(M2, { hostname: 'b' });
    a2.refuse.set('w1.service', 'not on this host'); // the fake refuses the content, as a host judging content would
    await h.submitAll([
      ...['w1', 'w2', 'w3', 'w4', 'w5'].map((w) => ({ name: `${w}.service`, text: checkedWorker })),
      { name: 'web@a.service', text: pinnedByInstance },
      { name: 'web@b.service', text: pinnedByInstance },
    ]);
    for (const w of ['w1', 'w2', 'w3', 'w4', 'w5']) await h.placed(`${w}.service`, [M1]);
    await h.placed('web@a.service', [M1]);
    await h.placed('web@b.service', [M2]);

    const first = a1.offers[0]!;
    assert.deepEqual(first.contents.find((c) => c.hash === hashOf(checkedWorker)), { hash: hashOf(checkedWorker), units: 5, hostChecks: true });
    assert.deepEqual(first.contents.find((c) => c.hash === hashOf(pinnedByInstance)), {
      hash: hashOf(pinnedByInstance), units: 2, hostChecks: true, names: ['web@a.service', 'web@b.service'],
    });
    assert.equal(first.contents.length, 2);
    assert.equal(await h.settled(), true);
    for (const w of ['w1', 'w2', 'w3', 'w4', 'w5']) assert.equal(await h.registry.getUnplaced(`${w}.service`), undefined);
  } finally {
    await h.stop();
  }
});

test('units arriving while a round is open join its resolution when the bids answer for them; checked content waits for its own offer', async () => {
  const h = await harness();
  try {
    const a1 = await h.join(M1);
    const release = a1.hold();
    await h.submitAll([{ name: 'first.service', text: checked('first') }]);
    await waitFor('first offer', () => (a1.offers.length > 0 ? true : undefined), { timeoutMs: 5000 });
    // Same content as nothing offered, but nothing for a host to check: the bid answers for it.
    await h.submitAll([
      { name: 'late.service', text: worker },
      { name: 'checked.service', text: checked('late and checked') },
    ]);
    await waitFor('engine to see the late units', async () => ((await h.registry.listUnits()).length === 3 ? true : undefined), { timeoutMs: 5000 });
    release();
    await h.placed('first.service', [M1]);
    await h.placed('late.service', [M1]);
    await h.placed('checked.service', [M1]);
    const rounds = h.logs.filter((l) => l.msg === 'round resolved');
    assert.equal(rounds[0]?.offered, 1);
    assert.equal(rounds[0]?.placed, 2, 'the late unchecked unit joined the first resolution');
    assert.ok(a1.offers.slice(1).some((o) => o.contents.some((c) => c.hash === hashOf(checked('late and checked')) && c.hostChecks)), 'checked content was offered before it was placed');
  } finally {
    await h.stop();
  }
});

test('a live machine that does not bid: bidders take an even share, the rest is placed next round without waiting for it again', async () => {
  const h = await harness();
  try {
    await h.join(M1);
    await h.join(M2);
    const a3 = await h.join(M3);
    a3.mute = true;
    const units = Array.from({ length: 6 }, (_, i) => ({ name: `s${i}.service`, text: checked(`s${i}`) }));
    await h.submitAll(units);
    for (const u of units) await waitFor(`${u.name} placed`, async () => ((await h.placement()).get(u.name)?.length === 1 ? true : undefined), { timeoutMs: 10_000 });
    const rounds = h.logs.filter((l) => l.msg === 'round resolved');
    assert.equal(rounds[0]?.placed, 4, 'first round: two each (an even share of 6 over 3 machines)');
    assert.ok(h.logs.some((l) => String(l.msg).startsWith('machines did not bid in time') && l.deferred === 2));
    assert.deepEqual(Object.fromEntries(await perMachine(h)), { [M1]: 3, [M2]: 3 });
    for (const u of units) assert.equal(await h.registry.getUnplaced(u.name), undefined, `${u.name} was reported unplaced`);
  } finally {
    await h.stop();
  }
});

test('a unit whose machine goes away while a round is open gets no second assignment from that round', async () => {
  const h = await harness();
  // Every assignment key as etcd has it: a unit on two machines at once is what must never happen.
  const live = new Map<string, Set<string>>();
  const doubles: string[] = [];
  const watcher = await fixture.client().watch().prefix(h.registry.keys.assignmentsPrefix).create();
  const split = (key: string): [string, string] => {
    const [machine, unit] = key.slice(h.registry.keys.assignmentsPrefix.length).split('/') as [string, string];
    return [machine, unit];
  };
  watcher.on('put', (kv) => {
    const [machine, unit] = split(kv.key.toString());
    const on = live.get(unit) ?? new Set<string>();
    on.add(machine);
    live.set(unit, on);
    if (on.size > 1) doubles.push(`${unit} on ${[...on].join(' and ')}`);
  });
  watcher.on('delete', (kv) => {
    const [machine, unit] = split(kv.key.toString());
    live.get(unit)?.delete(machine);
  });
  try {
    const a1 = await h.join(M1);
    await h.submitAll([{ name: 'moving.service', text: checkedWorker }]);
    await h.placed('moving.service', [M1]);
    const a2 = await h.join(M2);
    const release = a2.hold();
    a1.hold();
    await h.submitAll([{ name: 'trigger.service', text: checked('trigger') }]);
    await waitFor('an offer to M2', () => (a2.offers.length > 0 ? true : undefined), { timeoutMs: 5000 });
    // M1 dies with the round open: its assignment stays in etcd until the round is over.
    await a1.leave();
    release();
    await h.placed('moving.service', [M2], 10_000);
    await h.placed('trigger.service', [M2]);
    assert.deepEqual(doubles, []);
  } finally {
    await watcher.cancel();
    await h.stop();
  }
});
