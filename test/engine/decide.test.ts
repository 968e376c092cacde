/**
 * The engine's pure decision (src/engine/decide.ts), table-driven against
 * an in-memory cluster: no etcd, no clock. Each row builds a cluster and
 * the engine's memory and states the plan decide must return, rendered as
 * plain data (what is put, deleted, released, offered, recorded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, REQUIRE_ABSENT_MAX, type EngineMemory } from '../../src/engine/decide.js';
import { GRACE_FRACTION } from '../../src/engine/cluster-state.js';
import type { EnginePlan } from '../../src/engine/plan.js';
import { Refusals } from '../../src/engine/refusals.js';
import { keys, machine, memory, MemoryCluster, service } from './support/memory-view.js';

const M1 = machine('1');
const M2 = machine('2');
const NOW = new Date(1_000_000);

interface Rendered {
  /** Units assigned directly, as unit@machine. */
  placed: string[];
  puts: string[];
  deletes: string[];
  releases: Array<{ machineId: string; keys: string[] }>;
  offered: string[];
  unplaced: string[];
  departures: string[];
  wakeAt: number | undefined;
}

function render(plan: EnginePlan): Rendered {
  return {
    placed: plan.placed.map((p) => `${p.unit}@${p.machineId}`),
    puts: plan.writes.putKeys(),
    deletes: plan.writes.deletedKeys(),
    releases: plan.releases,
    offered: (plan.round?.units.map((u) => u.name) ?? []).sort(),
    unplaced: plan.unplaced.map((c) => `${c.unit}:${c.signature === undefined ? 'cleared' : 'set'}`),
    departures: plan.departures,
    wakeAt: plan.wakeAt,
  };
}

const nothing: Rendered = { placed: [], puts: [], deletes: [], releases: [], offered: [], unplaced: [], departures: [], wakeAt: undefined };
function silentRefusals(m: string): Refusals {
  const r = new Refusals();
  r.recordSilence(m, new Set(['earlier.service']));
  return r;
}
const checked = (desc: string) => service(desc, '[Unit]\nConditionPathExists=/etc\n');

const rows: Array<{ name: string; cluster: () => MemoryCluster; memory?: Partial<EngineMemory>; want: Partial<Rendered> }> = [
  {
    name: 'a launched unit with checked content and a live machine: a round offering it',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', checked('a')),
    want: { offered: ['a.service'] },
  },
  {
    name: 'a launched unit with nothing for hosts to check and a live machine: assigned directly, no round',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')),
    want: { placed: [`a.service@${M1}`], puts: [keys.assignment(M1, 'a.service')] },
  },
  {
    name: 'direct units spread least-loaded first, by the same rules a round uses',
    cluster: () => new MemoryCluster().live(M1).live(M2).unitFrom('old.service', service('old')).assign('old.service', M1).unitFrom('a.service', service('a')).unitFrom('b.service', service('b')),
    want: { placed: [`a.service@${M2}`, `b.service@${M1}`], puts: [keys.assignment(M1, 'b.service'), keys.assignment(M2, 'a.service')] },
  },
  {
    name: 'a mixed batch: direct units placed now, checked content waits for the round of the next step',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')).unitFrom('c.service', checked('c')),
    want: { placed: [`a.service@${M1}`], puts: [keys.assignment(M1, 'a.service')] },
  },
  {
    name: 'checked content only (the direct units already placed): a round offering just it',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')).assign('a.service', M1).unitFrom('c.service', checked('c')),
    want: { offered: ['c.service'] },
  },
  {
    name: 'a follower of a peer that needs a round goes through the round with it',
    cluster: () => new MemoryCluster().live(M1).unitFrom('p.service', checked('p')).unitFrom('f.service', service('f', '[X-Fleet]\nMachineOf=p.service\n')),
    want: { offered: ['f.service', 'p.service'] },
  },
  {
    name: 'a follower of a placed peer is placed directly beside it',
    cluster: () => new MemoryCluster().live(M1).live(M2).unitFrom('p.service', checked('p')).assign('p.service', M2).unitFrom('f.service', service('f', '[X-Fleet]\nMachineOf=p.service\n')),
    want: { placed: [`f.service@${M2}`], puts: [keys.assignment(M2, 'f.service')] },
  },
  {
    name: 'a unit in a Replaces relation goes through a round, though nothing in it is for hosts to check',
    cluster: () => new MemoryCluster().live(M1).unitFrom('old.service', service('old')).assign('old.service', M1).unitFrom('new.service', service('new', '[X-Fleet]\nReplaces=old.service\n')),
    want: { offered: ['new.service', 'old.service'] },
  },
  {
    name: 'a machine that missed a round and was not heard from since takes nothing directly',
    cluster: () => new MemoryCluster().live(M1).live(M2).unitFrom('a.service', service('a')),
    memory: { refusals: silentRefusals(M1) },
    want: { placed: [`a.service@${M2}`], puts: [keys.assignment(M2, 'a.service')] },
  },
  {
    name: 'a direct unit no machine meets (a conflict): its unplaced record says why, no round',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')).assign('a.service', M1).unitFrom('b.service', service('b', '[X-Fleet]\nConflicts=a.service\n')),
    want: { puts: [keys.unplaced('b.service')], unplaced: ['b.service:set'] },
  },
  {
    name: 'an assignment on a gone machine: released in its own transaction, nothing else',
    cluster: () => new MemoryCluster().live(M2).unitFrom('a.service', service('a')).assign('a.service', M1).unitFrom('b.service', service('b')),
    want: { releases: [{ machineId: M1, keys: [keys.assignment(M1, 'a.service')] }] },
  },
  {
    name: 'OnDisconnect=stop on a machine seen leaving: held back, wake at the end of its grace',
    cluster: () => {
      const c = new MemoryCluster().live(M2).unitFrom('s.service', service('s', '[X-Fleet]\nOnDisconnect=stop\n')).assign('s.service', M1);
      return c.gone(M1, NOW.getTime() - 1000);
    },
    want: { wakeAt: NOW.getTime() - 1000 + 10_000 * GRACE_FRACTION },
  },
  {
    name: 'OnDisconnect=stop on a machine never seen leaving: its departure is to be recorded now, the wake follows from it',
    cluster: () => new MemoryCluster().live(M2).unitFrom('s.service', service('s', '[X-Fleet]\nOnDisconnect=stop\n')).assign('s.service', M1),
    want: { departures: [M1], wakeAt: NOW.getTime() + 10_000 * GRACE_FRACTION },
  },
  {
    name: 'a destroyed unit: its assignment on a live machine is deleted, nothing placed in the same step',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')).assign('a.service', M1).destroy('a.service').unitFrom('b.service', checked('b')),
    want: { deletes: [keys.assignment(M1, 'a.service')] },
  },
  {
    name: 'own assignment write not seen by the cache yet: nothing',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', checked('a')),
    memory: { assignmentsWrittenAt: 11 },
    want: {},
  },
  {
    name: 'a round is open: nothing',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', checked('a')),
    memory: { roundOpen: true },
    want: {},
  },
  {
    name: 'no live machine: an unplaced record, no round',
    cluster: () => new MemoryCluster().unitFrom('a.service', service('a')),
    want: { puts: [keys.unplaced('a.service')], unplaced: ['a.service:set'] },
  },
  {
    name: 'a placed unit whose content changed: its assignment rewritten in place, nothing placed in the same step',
    cluster: () => new MemoryCluster().live(M1).unitFrom('a.service', service('a')).assign('a.service', M1).unitFrom('a.service', service('a2')).unitFrom('b.service', service('b')),
    want: { puts: [keys.assignment(M1, 'a.service')] },
  },
  {
    name: 'a unit no machine meets: unplaced, never offered',
    cluster: () => new MemoryCluster().live(M1, { role: 'web' }).unitFrom('db.service', service('db', '[X-Fleet]\nMachineMetadata=role=db\n')),
    want: { puts: [keys.unplaced('db.service')], unplaced: ['db.service:set'] },
  },
];

for (const row of rows) {
  test(`decide: ${row.name}`, () => {
    const cluster = row.cluster();
    const plan = decide(cluster.snapshot(NOW), memory(row.memory));
    assert.deepEqual(render(plan), { ...nothing, ...row.want });
  });
}

test('decide changes nothing it reads: the same snapshot and memory give the same plan twice', () => {
  const cluster = new MemoryCluster().live(M1).live(M2).unitFrom('a.service', checked('a')).unitFrom('b.service', service('b')).assign('b.service', M2);
  const mem = memory();
  const once = render(decide(cluster.snapshot(NOW), mem));
  assert.deepEqual(render(decide(cluster.snapshot(NOW), mem)), once);
});

test('decide: an assignment deleted because its unit is gone is deleted only if etcd has no record of the unit either', () => {
  // The engine's caches are separate watches: the assignment may be seen before the unit record of the same transaction.
  const cluster = new MemoryCluster().live(M1).unitFrom('a.service', service('a')).assign('a.service', M1).destroy('a.service');
  const plan = decide(cluster.snapshot(NOW), memory());
  assert.deepEqual(plan.writes.deletedKeys(), [keys.assignment(M1, 'a.service')]);
  assert.deepEqual([...plan.writes.requireAbsent], [keys.unit('a.service')]);
  // A rule that broke, not a missing unit: no such condition.
  const moved = new MemoryCluster().live(M1).live(M2).unitFrom('b.service', service('b', `[X-Fleet]\nMachineID=${M2}\n`)).assign('b.service', M1);
  const plan2 = decide(moved.snapshot(NOW), memory());
  assert.deepEqual(plan2.writes.deletedKeys(), [keys.assignment(M1, 'b.service')]);
  assert.deepEqual([...plan2.writes.requireAbsent], []);
});

test('decide: one step unschedules at most REQUIRE_ABSENT_MAX destroyed units (each is a compare; etcd takes 128), the next the rest', () => {
  const cluster = new MemoryCluster().live(M1);
  const names = Array.from({ length: REQUIRE_ABSENT_MAX + 50 }, (_, i) => `d${i}.service`);
  for (const n of names) cluster.unitFrom(n, service(n)).assign(n, M1).destroy(n);
  const plan = decide(cluster.snapshot(NOW), memory());
  assert.equal(plan.writes.requireAbsent.size, REQUIRE_ABSENT_MAX);
  assert.equal(plan.writes.deletedKeys().length, REQUIRE_ABSENT_MAX);
  assert.deepEqual(plan.writes.deletedKeys().sort(), [...plan.writes.requireAbsent].map((k) => keys.assignment(M1, k.split('/').at(-1) ?? '')).sort());
});
