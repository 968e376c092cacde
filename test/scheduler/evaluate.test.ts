/** Re-evaluation of existing placements: what no longer holds, and who moves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePlacements, ReplaceGraph, type Assigned } from '../../src/scheduler/index.js';
import type { UnitRequirements } from '../../src/unit/index.js';
import { reqs } from './support/fixtures.js';

function run(assigned: Array<[unit: string, machine: string]>, requirements: Record<string, UnitRequirements>, metadata: Record<string, Record<string, string>> = {}) {
  const req = new Map(Object.entries(requirements));
  const list: Assigned[] = assigned.map(([unit, machineId], since) => ({ unit, machineId, since }));
  return evaluatePlacements({ assigned: list, metadata: new Map(Object.entries(metadata)), requirements: req, replaces: ReplaceGraph.build(req) });
}

test('a placement whose rules hold is left alone', () => {
  assert.deepEqual(run([['a.service', 'm1'], ['b.service', 'm1']], { 'a.service': reqs(), 'b.service': reqs({ machineOf: ['a.service'] }) }), []);
});

test('MachineID changed by a replace: the unit leaves', () => {
  assert.deepEqual(run([['a.service', 'm1']], { 'a.service': reqs({ machineId: 'm2' }) }), [{ unit: 'a.service', machineId: 'm1', reason: 'MachineID is m2, not this machine' }]);
});

test('machine metadata no longer matches: the unit leaves and its followers go with it', () => {
  const out = run(
    [['db.service', 'm1'], ['backup.service', 'm1']],
    { 'db.service': reqs({ machineMetadata: { disk: ['ssd'] } }), 'backup.service': reqs({ machineOf: ['db.service'] }) },
    { m1: { disk: 'hdd' } },
  );
  assert.deepEqual(out, [
    { unit: 'db.service', machineId: 'm1', reason: 'MachineMetadata requires disk=ssd; machine has disk=hdd' },
    { unit: 'backup.service', machineId: 'm1', reason: 'requires peer db.service, which is leaving this machine' },
  ]);
});

test('a conflicting pair on one machine: the newer assignment leaves, whichever side declared it', () => {
  const requirements = { 'old.service': reqs({ conflicts: ['new.service'] }), 'new.service': reqs() };
  assert.deepEqual(run([['old.service', 'm1'], ['new.service', 'm1']], requirements), [{ unit: 'new.service', machineId: 'm1', reason: 'conflicts with old.service' }]);
  assert.deepEqual(run([['new.service', 'm1'], ['old.service', 'm1']], requirements), [{ unit: 'old.service', machineId: 'm1', reason: 'conflicts with new.service' }]);
});

test('conflicting global units: the newer leaves that machine only', () => {
  const requirements = { 'g1.service': reqs({ global: true }), 'g2.service': reqs({ global: true, conflicts: ['g1.service'] }) };
  const out = run([['g1.service', 'm1'], ['g2.service', 'm2'], ['g2.service', 'm1']], requirements);
  assert.deepEqual(out, [{ unit: 'g2.service', machineId: 'm1', reason: 'conflicts with g1.service' }]);
});

test('the replaced unit leaves, never its replacer, whatever their age', () => {
  const requirements = { 'r.service': reqs(), 'j.service': reqs({ replaces: ['r.*'] }) };
  for (const order of [[['r.service', 'm1'], ['j.service', 'm1']], [['j.service', 'm1'], ['r.service', 'm1']]] as Array<Array<[string, string]>>) {
    assert.deepEqual(run(order, requirements), [{ unit: 'r.service', machineId: 'm1', reason: 'replaced by j.service, which is on this machine' }]);
  }
});

test('a Replaces cycle evicts nobody (no flapping)', () => {
  const requirements = { 'a.service': reqs({ replaces: ['b.service'] }), 'b.service': reqs({ replaces: ['a.service'] }) };
  assert.deepEqual(run([['a.service', 'm1'], ['b.service', 'm1']], requirements), []);
});

test('a peer that is gone or elsewhere: the follower leaves', () => {
  const requirements = { 'p.service': reqs(), 'f.service': reqs({ machineOf: ['p.service'] }) };
  assert.deepEqual(run([['p.service', 'm2'], ['f.service', 'm1']], requirements), [{ unit: 'f.service', machineId: 'm1', reason: 'requires peer p.service, which is not on this machine' }]);
  // Chains: a follower of a follower leaves as well.
  const chain = { ...requirements, 'g.service': reqs({ machineOf: ['f.service'] }) };
  assert.deepEqual(run([['f.service', 'm1'], ['g.service', 'm1']], chain).map((v) => v.unit), ['f.service', 'g.service']);
});
