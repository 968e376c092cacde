import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keys } from '../../src/registry/keys.js';
import { deriveEvents, type KeyChange } from '../../src/events/derive.js';

const keys = new Keys();
const M = 'a'.repeat(32);
const H = 'b'.repeat(40);
const unit = JSON.stringify({ name: 'web.service', hash: H, desired: 'launched' });
const machine = JSON.stringify({ id: M, publicIP: '10.0.0.1', metadata: {}, version: '1' });
const assign = JSON.stringify({ unit: 'web.service', hash: H, desired: 'launched' });
const st = (active: string, failure?: string) =>
  JSON.stringify({ unit: 'web.service', machineId: M, hash: H, load: 'loaded', active, sub: 'x', applied: 'launched', ...(failure ? { failure } : {}) });

const cases: Array<[string, Omit<KeyChange, 'revision'>, string[]]> = [
  ['unit submitted', { key: keys.unit('web.service'), value: unit, previous: undefined }, ['UnitSubmitted']],
  ['unit re-put is no submit', { key: keys.unit('web.service'), value: unit, previous: unit }, []],
  ['unit destroyed', { key: keys.unit('web.service'), value: undefined, previous: unit }, ['UnitDestroyed']],
  ['garbage unit ignored', { key: keys.unit('web.service'), value: '{', previous: undefined }, []],
  ['machine joined', { key: keys.machine(M), value: machine, previous: undefined }, ['MachineJoined']],
  ['machine left', { key: keys.machine(M), value: undefined, previous: machine }, ['MachineLeft']],
  ['placed', { key: keys.assignment(M, 'web.service'), value: assign, previous: undefined }, ['UnitPlaced']],
  ['unassigned', { key: keys.assignment(M, 'web.service'), value: undefined, previous: assign }, ['UnitUnassigned']],
  ['started', { key: keys.state('web.service', M), value: st('active'), previous: st('activating') }, ['UnitStarted']],
  ['unchanged state', { key: keys.state('web.service', M), value: st('active'), previous: st('active') }, []],
  ['stopped', { key: keys.state('web.service', M), value: st('inactive'), previous: st('active') }, ['UnitStopped']],
  ['failed', { key: keys.state('web.service', M), value: st('failed', 'exit 1'), previous: st('active') }, ['UnitFailed']],
  ['failed, then its reason', { key: keys.state('web.service', M), value: st('failed', 'exit 1'), previous: st('failed') }, ['UnitFailed']],
  ['failed, reason unchanged', { key: keys.state('web.service', M), value: st('failed', 'exit 1'), previous: st('failed', 'exit 1') }, []],
  ['unplaced', { key: keys.unplaced('web.service'), value: JSON.stringify({ unit: 'web.service', hash: H, reasons: { '*': 'no machine' }, at: 'now' }), previous: undefined }, ['UnitUnplaced']],
  ['desired changed', { key: keys.unit('web.service'), value: unit, previous: JSON.stringify({ name: 'web.service', hash: H, desired: 'inactive' }) }, ['UnitDesiredChanged']],
  ['content replaced', { key: keys.unit('web.service'), value: JSON.stringify({ name: 'web.service', hash: 'c'.repeat(40), desired: 'launched' }), previous: unit }, ['UnitReplaced']],
  ['assignment desired changed', { key: keys.assignment(M, 'web.service'), value: JSON.stringify({ unit: 'web.service', hash: H, desired: 'loaded' }), previous: assign }, ['UnitAssignmentChanged']],
  ['assignment re-put unchanged', { key: keys.assignment(M, 'web.service'), value: assign, previous: assign }, []],
  ['first report, not active', { key: keys.state('web.service', M), value: st('inactive'), previous: undefined }, ['UnitStateChanged']],
  ['sub state changed', { key: keys.state('web.service', M), value: st('activating'), previous: JSON.stringify({ ...JSON.parse(st('activating')), sub: 'start-pre' }) }, ['UnitStateChanged']],
  ['state removed', { key: keys.state('web.service', M), value: undefined, previous: st('active') }, ['UnitStateRemoved']],
  ['unplaced cleared', { key: keys.unplaced('web.service'), value: undefined, previous: '{}' }, ['UnitUnplacedCleared']],
  ['other keys ignored', { key: keys.content(H), value: 'x', previous: undefined }, []],
];

for (const [name, change, want] of cases) {
  test(`derive: ${name}`, () => {
    const events = deriveEvents(keys, { revision: 7, ...change });
    assert.deepEqual(events.map((e) => e.type), want);
    for (const e of events) assert.equal(e.index, 7);
  });
}

test('derive: failure and unplaced reasons are carried', () => {
  const [f] = deriveEvents(keys, { revision: 1, key: keys.state('web.service', M), value: st('failed', 'exit 1'), previous: undefined });
  assert.equal(f?.reason, 'exit 1');
  const [u] = deriveEvents(keys, { revision: 1, key: keys.unplaced('web.service'), value: JSON.stringify({ unit: 'web.service', hash: H, reasons: { '*': 'no machine' }, at: 'now' }), previous: undefined });
  assert.equal(u?.reason, '*: no machine');
});
