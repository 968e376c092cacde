/** The even share a round resolved without every machine's bid gives each bidder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFilters, fairShareCap, fairShareFilter, placeUnits, reasons } from '../../src/scheduler/index.js';
import { host, request, view } from './support/fixtures.js';

test('the cap is every unit placed or to place over the machines sharing them, rounded up', () => {
  assert.equal(fairShareCap([0, 0, 0], 3, 6), 2);
  assert.equal(fairShareCap([4, 1, 0], 3, 5), 4);
  assert.equal(fairShareCap([], 0, 3), 3);
});

test('bidders fill up to the cap and no further; global units are not held back', () => {
  const units = ['a', 'b', 'c', 'd', 'e', 'f'].map((u) => request(`${u}.service`));
  // m1 already holds x.service; with a cap of 3 the two machines have room for 5 of the 6.
  const d = placeUnits([...units, request('g.service', { global: true })], [host('m1', 1), host('m2')], view({ m1: ['x.service'] }), [
    ...defaultFilters,
    fairShareFilter(3),
  ]);
  const on = (m: string) => d.placements.filter((p) => p.machineId === m).map((p) => p.unit).sort();
  assert.deepEqual(on('m1'), ['b.service', 'd.service', 'g.service']);
  assert.deepEqual(on('m2'), ['a.service', 'c.service', 'e.service', 'g.service']);
  assert.deepEqual(d.unplaced, [{ unit: 'f.service', reasons: { m1: reasons.fairShare(3), m2: reasons.fairShare(3) } }]);
});
