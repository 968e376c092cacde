import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keys } from '../../src/registry/keys.js';
import { EventTracker, type TrackedChange } from '../../src/events/tracker.js';

const keys = new Keys();
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const C = 'c'.repeat(32);
const H = 'f'.repeat(40);
const assign = (unit: string) => JSON.stringify({ unit, hash: H, desired: 'launched' });
const put = (revision: number, key: string, value: string, previous?: string, createRevision = revision): TrackedChange => ({ revision, key, value, previous, createRevision });
const del = (revision: number, key: string, previous?: string): TrackedChange => ({ revision, key, value: undefined, previous, createRevision: 0 });
const types = (events: { type: string }[]) => events.map((e) => e.type);

test('tracker: placed elsewhere after the first machine lost it is a move, with where from', () => {
  const t = new EventTracker(keys);
  t.seed([], []);
  assert.deepEqual(types(t.applyRevision(5, [put(5, keys.assignment(A, 'web.service'), assign('web.service'))])), ['UnitPlaced']);
  assert.deepEqual(types(t.applyRevision(9, [del(9, keys.assignment(A, 'web.service'), assign('web.service'))])), ['UnitUnassigned']);
  const moved = t.applyRevision(12, [put(12, keys.assignment(B, 'web.service'), assign('web.service'))]);
  assert.deepEqual(types(moved), ['UnitPlaced', 'UnitMoved']);
  assert.equal(moved[1]?.from, A);
  assert.equal(moved[1]?.machine, B);
  assert.equal(moved[1]?.index, 12);
});

test('tracker: a move in one transaction (put new, delete old) in either order', () => {
  for (const order of ['put-first', 'delete-first']) {
    const t = new EventTracker(keys);
    t.seed([{ key: keys.assignment(A, 'web.service'), value: '', createRevision: 1 }], []);
    const p = put(7, keys.assignment(B, 'web.service'), assign('web.service'));
    const d = del(7, keys.assignment(A, 'web.service'), assign('web.service'));
    const ev = t.applyRevision(7, order === 'put-first' ? [p, d] : [d, p]);
    assert.ok(types(ev).includes('UnitMoved'), order);
  }
});

test('tracker: a global unit gaining a machine is no move; a unit destroyed and submitted again is no move', () => {
  const t = new EventTracker(keys);
  t.seed([{ key: keys.assignment(A, 'g.service'), value: '', createRevision: 1 }, { key: keys.assignment(A, 'x.service'), value: '', createRevision: 1 }], []);
  assert.deepEqual(types(t.applyRevision(3, [put(3, keys.assignment(B, 'g.service'), assign('g.service'))])), ['UnitPlaced']);
  t.applyRevision(4, [del(4, keys.assignment(A, 'x.service'), assign('x.service')), del(4, keys.unit('x.service'), JSON.stringify({ name: 'x.service', hash: H, desired: 'launched' }))]);
  assert.deepEqual(types(t.applyRevision(6, [put(6, keys.assignment(C, 'x.service'), assign('x.service'))])), ['UnitPlaced']);
});

test('tracker: engine elected and deposed follow the lowest create revision', () => {
  const t = new EventTracker(keys);
  t.seed([], [{ key: keys.candidate('100'), value: A, createRevision: 3 }, { key: keys.candidate('200'), value: B, createRevision: 4 }]);
  assert.equal(t.leaderMachine, A);
  assert.deepEqual(t.applyRevision(8, [put(8, keys.candidate('300'), C)]), [], 'a later candidate changes nothing');
  const ev = t.applyRevision(9, [del(9, keys.candidate('100'), A)]);
  assert.deepEqual(ev.map((e) => [e.type, e.machine, e.index]), [['EngineDeposed', A, 9], ['EngineElected', B, 9]]);
  const last = t.applyRevision(10, [del(10, keys.candidate('200'), B), del(10, keys.candidate('300'), C)]);
  assert.deepEqual(types(last), ['EngineDeposed']);
  assert.equal(t.leaderMachine, undefined);
});
