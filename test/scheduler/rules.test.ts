/** One example per placement rule, with the reason users see. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeUnits } from '../../src/scheduler/index.js';
import { apply, host, request, reqs, view, whereIs } from './support/fixtures.js';

const M1 = '1234abcd' + 'e'.repeat(24);
const M2 = '5678ef01' + 'f'.repeat(24);

test('MachineID: the full id or its 8-character short id; elsewhere the reason names the wanted id', () => {
  for (const wanted of [M2, M2.slice(0, 8)]) {
    const d = placeUnits([request('pin.service', { machineId: wanted })], [host(M1), host(M2, 5)], view({}));
    assert.deepEqual(d.placements, [{ unit: 'pin.service', machineId: M2 }]);
  }
  const d = placeUnits([request('pin.service', { machineId: 'deadbeef' })], [host(M1), host(M2)], view({}));
  assert.deepEqual(d.unplaced, [{ unit: 'pin.service', reasons: { [M1]: 'MachineID is deadbeef, not this machine', [M2]: 'MachineID is deadbeef, not this machine' } }]);
  // A 7-character prefix is not an id.
  const d7 = placeUnits([request('pin.service', { machineId: M2.slice(0, 7) })], [host(M2)], view({}));
  assert.equal(d7.placements.length, 0);
});

test('MachineMetadata: checked against the metadata the engine gives, AND across keys, OR within a key', () => {
  const r = request('web.service', { machineMetadata: { role: ['web', 'edge'], dc: ['x'] } });
  const d = placeUnits([r], [host('m1', 0, {}, { role: 'db', dc: 'x' }), host('m2', 0, {}, { role: 'edge' }), host('m3', 3, {}, { role: 'edge', dc: 'x' })], view({}));
  assert.deepEqual(d.placements, [{ unit: 'web.service', machineId: 'm3' }]);
  const none = placeUnits([r], [host('m1', 0, {}, { role: 'db', dc: 'x' }), host('m2', 0, {}, { role: 'edge' })], view({}));
  assert.deepEqual(none.unplaced[0]?.reasons, {
    m1: 'MachineMetadata requires role=web or role=edge; machine has role=db',
    m2: 'MachineMetadata requires dc=x; machine has no dc',
  });
  // Without metadata from the caller, the host's bid is the authority.
  assert.equal(placeUnits([r], [host('m1')], view({})).placements.length, 1);
});

test('Conflicts: one-way declarations bind both units, against placed units and earlier units of the round', () => {
  // Placed b declares the conflict; newcomer a does not.
  const placed = view({ m1: ['b.service'] }, { 'b.service': reqs({ conflicts: ['a.*'] }) });
  let d = placeUnits([request('a.service')], [host('m1'), host('m2', 9)], placed);
  assert.deepEqual(d.placements, [{ unit: 'a.service', machineId: 'm2' }]);
  d = placeUnits([request('a.service')], [host('m1')], placed);
  assert.deepEqual(d.unplaced, [{ unit: 'a.service', reasons: { m1: 'conflicts with b.service' } }]);
  // Same round: x placed first (name order), y's glob matches it.
  d = placeUnits([request('x.service'), request('y.service', { conflicts: ['x.serv?ce'] })], [host('m1'), host('m2')], view({}));
  assert.notEqual(d.placements[0]?.machineId, d.placements[1]?.machineId);
  d = placeUnits([request('x.service'), request('y.service', { conflicts: ['x.serv?ce'] })], [host('m1')], view({}));
  assert.deepEqual(d.unplaced, [{ unit: 'y.service', reasons: { m1: 'conflicts with x.service' } }]);
});

test('Conflicts: two conflicting global units never share a host; the first by name takes it', () => {
  const d = placeUnits(
    [request('g1.service', { global: true }), request('g2.service', { global: true, conflicts: ['g1.service'] })],
    [host('m1'), host('m2')],
    view({ m2: ['g2.service'] }, { 'g2.service': reqs({ global: true, conflicts: ['g1.service'] }) }),
  );
  const after = apply(view({ m2: ['g2.service'] }), d);
  assert.deepEqual(whereIs(after, 'g1.service'), ['m1']);
  assert.deepEqual(whereIs(after, 'g2.service'), ['m2']);
});

test('MachineOf: a follower goes where its peer is, even when the peer is placed in the same round', () => {
  const d = placeUnits(
    [request('a-follower.service', { machineOf: ['z-peer.service'] }), request('z-peer.service')],
    [host('m1'), host('m2', 1)],
    view({}),
  );
  assert.deepEqual(d.placements, [
    { unit: 'z-peer.service', machineId: 'm1' },
    { unit: 'a-follower.service', machineId: 'm1' },
  ]);
  const missing = placeUnits([request('f.service', { machineOf: ['gone.service'] })], [host('m1')], view({}));
  assert.deepEqual(missing.unplaced[0]?.reasons, { m1: 'requires peer gone.service, which is not on this machine' });
});

test('MachineOf: a global peer must be on that machine', () => {
  const d = placeUnits([request('f.service', { machineOf: ['g.service'] })], [host('m1'), host('m2', 4)], view({ m2: ['g.service'] }, { 'g.service': reqs({ global: true }) }));
  assert.deepEqual(d.placements, [{ unit: 'f.service', machineId: 'm2' }]);
});

test('MachineOf: a cycle is unplaceable with a reason that names it; units outside it are unaffected', () => {
  const d = placeUnits(
    [request('a.service', { machineOf: ['b.service'] }), request('b.service', { machineOf: ['a.service'] }), request('c.service'), request('self.service', { machineOf: ['self.service'] })],
    [host('m1')],
    view({}),
  );
  assert.deepEqual(d.placements, [{ unit: 'c.service', machineId: 'm1' }]);
  const byUnit = Object.fromEntries(d.unplaced.map((u) => [u.unit, u.reasons.m1]));
  assert.equal(byUnit['a.service'], 'MachineOf cycle among a.service, b.service: none of them can be placed first');
  assert.equal(byUnit['b.service'], byUnit['a.service']);
  assert.match(byUnit['self.service'] ?? '', /MachineOf names the unit itself/);
});

test('Replaces: the replacer may land on the replaced unit, which moves to a machine that can run it', () => {
  const placed = view({ m1: ['old.service'], m2: ['x.service', 'y.service'] }, { 'old.service': reqs() });
  const d = placeUnits([request('new.service', { replaces: ['old.*'] })], [host('m1', 1), host('m2', 2)], placed);
  assert.deepEqual(d.placements, [{ unit: 'new.service', machineId: 'm1' }]);
  assert.deepEqual(d.moves, [{ unit: 'old.service', from: 'm1', to: 'm2', reason: 'replaced by new.service, which is on this machine' }]);
});

test("Replaces: the moved unit's own rules are checked where it goes; if none fits it stays unplaced", () => {
  const placed = view({ m1: ['old.service'], m2: ['enemy.service'] }, { 'old.service': reqs(), 'enemy.service': reqs({ conflicts: ['old.service'] }) });
  const d = placeUnits([request('new.service', { replaces: ['old.service'] })], [host('m1', 0), host('m2', 5)], placed);
  assert.deepEqual(d.placements, [{ unit: 'new.service', machineId: 'm1' }]);
  assert.deepEqual(d.moves, [{ unit: 'old.service', from: 'm1', reason: 'replaced by new.service, which is on this machine' }]);
  assert.deepEqual(d.unplaced, [{ unit: 'old.service', reasons: { m1: 'replaced by new.service, which is on this machine', m2: 'conflicts with enemy.service' } }]);
});

test('Replaces: followers of the moved unit move with it', () => {
  const placed = view({ m1: ['db.service', 'db-backup.service'], m2: ['a.service', 'b.service'] }, { 'db-backup.service': reqs({ machineOf: ['db.service'] }) });
  const d = placeUnits([request('db2.service', { replaces: ['db.service'] })], [host('m1', 2), host('m2', 2)], placed);
  const after = apply(placed, d);
  assert.deepEqual(whereIs(after, 'db2.service'), ['m1']);
  assert.deepEqual(whereIs(after, 'db.service'), ['m2']);
  assert.deepEqual(whereIs(after, 'db-backup.service'), ['m2']);
});

test('Replaces: only the replacer declares; the replaced unit never lands next to its replacer', () => {
  // r declares Replaces=j: r replaces j, so r may not be kept away from j's machine, but j must stay off r's.
  const placed = view({ m1: ['r.service'] }, { 'r.service': reqs({ replaces: ['j.service'] }) });
  const d = placeUnits([request('j.service')], [host('m1'), host('m2', 3)], placed);
  assert.deepEqual(d.placements, [{ unit: 'j.service', machineId: 'm2' }]);
  assert.deepEqual(d.moves, []);
});

test('Replaces: a cycle is ignored, so the units neither chase nor block each other', () => {
  const d = placeUnits(
    [request('a.service', { replaces: ['b.service'] }), request('b.service', { replaces: ['a.service'] })],
    [host('m1')],
    view({}),
  );
  assert.equal(d.placements.length, 2);
  assert.deepEqual(d.moves, []);
});

test('load counts global units, including those placed earlier in the round', () => {
  const d = placeUnits(
    [request('a-global.service', { global: true }), request('b.service')],
    [host('m1'), host('m2', 0, { 'a-global.service': 'not here' })],
    view({}),
  );
  assert.deepEqual(d.placements, [
    { unit: 'a-global.service', machineId: 'm1' },
    { unit: 'b.service', machineId: 'm2' },
  ]);
});
