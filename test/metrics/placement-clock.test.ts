import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlacementClock, unitCensus } from '../../src/metrics/placement-clock.js';
import type { UnitRecord, UnitStateRecord } from '../../src/registry/records.js';

const H1 = 'a'.repeat(40);
const H2 = 'b'.repeat(40);
const M1 = '1'.repeat(32);
const M2 = '2'.repeat(32);
const unit = (desired: UnitRecord['desired'], hash = H1): UnitRecord => ({ name: 'web.service', hash, desired });
const state = (active: string, hash = H1, machineId = M1, name = 'web.service'): UnitStateRecord => ({ unit: name, machineId, hash, load: 'loaded', active, sub: 'x', applied: 'launched' });

test('placement clock: launched written at t, active at t+1.5 s gives 1.5 s, once', () => {
  const c = new PlacementClock();
  c.unitWritten('web.service', unit('launched'), undefined, 1000);
  assert.equal(c.stateWritten(state('activating'), 1200), undefined);
  assert.equal(c.stateWritten(state('active'), 2500), 1.5);
  assert.equal(c.stateWritten(state('active', H1, M2), 2600), undefined, 'a second active state is no second placement');
  assert.equal(c.waiting, 0);
});

test('placement clock: an active state of old content does not stop the clock of new content', () => {
  const c = new PlacementClock();
  c.unitWritten('web.service', unit('launched', H2), unit('launched', H1), 0);
  assert.equal(c.stateWritten(state('active', H1), 100), undefined);
  assert.equal(c.stateWritten(state('active', H2), 300), 0.3);
});

test('placement clock: a re-put of the same launched record keeps the first start time', () => {
  const c = new PlacementClock();
  c.unitWritten('web.service', unit('launched'), unit('loaded'), 0);
  c.unitWritten('web.service', unit('launched'), unit('launched'), 900);
  assert.equal(c.stateWritten(state('active'), 1000), 1);
});

test('placement clock: stopped or destroyed before running yields nothing', () => {
  const c = new PlacementClock();
  c.unitWritten('web.service', unit('launched'), undefined, 0);
  c.unitWritten('web.service', unit('inactive'), unit('launched'), 10);
  assert.equal(c.stateWritten(state('active'), 20), undefined);
  c.unitWritten('web.service', unit('launched'), unit('inactive'), 30);
  c.unitWritten('web.service', undefined, unit('launched'), 40);
  assert.equal(c.stateWritten(state('active'), 50), undefined);
  assert.equal(c.waiting, 0);
});

test('unit census counts units by machine and active state', () => {
  const census = unitCensus([state('active'), state('failed', H1, M1, 'b.service'), state('active', H1, M2), state('active', H1, M1, 'c.service')]);
  assert.deepEqual([...(census.get(M1) ?? [])].sort(), [['active', 2], ['failed', 1]]);
  assert.deepEqual([...(census.get(M2) ?? [])], [['active', 1]]);
});
