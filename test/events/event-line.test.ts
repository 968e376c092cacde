import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventLine } from '../../src/cli/commands/events.js';
import { toWire } from '../../src/events/stream.js';

const A = '0123456789abcdef'.repeat(2);
const B = 'fedcba9876543210'.repeat(2);

test('flotctl events: one line per event, machine ids abbreviated unless --full', () => {
  assert.equal(eventLine({ index: 12, topic: 'Unit', type: 'UnitPlaced', unit: 'web.service', machine: A }, false), '12 UnitPlaced web.service on 01234567');
  assert.equal(eventLine({ index: 13, topic: 'Unit', type: 'UnitMoved', unit: 'web.service', machine: B, from: A, reason: 'moved from x' }, false), '13 UnitMoved web.service on fedcba98 from 01234567');
  assert.equal(eventLine({ index: 14, topic: 'Unit', type: 'UnitFailed', unit: 'db.service', machine: A, reason: 'exit 1' }, true), `14 UnitFailed db.service on ${A} (exit 1)`);
  assert.equal(eventLine({ index: 15, topic: 'Engine', type: 'EngineElected', machine: B }, false), '15 EngineElected fedcba98');
  assert.equal(eventLine({ index: 16, topic: 'Unit', type: 'UnitUnplaced', unit: 'x.service', reason: '*: no machine' }, false), '16 UnitUnplaced x.service (*: no machine)');
});

test('wire events: Nomad fields, Key is the unit or else the machine', () => {
  assert.deepEqual(toWire({ index: 3, topic: 'Machine', type: 'MachineLeft', machine: A }), { Topic: 'Machine', Type: 'MachineLeft', Key: A, Index: 3, Payload: { Machine: A } });
  assert.deepEqual(toWire({ index: 4, topic: 'Unit', type: 'UnitMoved', unit: 'w.service', machine: B, from: A, reason: 'r' }), {
    Topic: 'Unit', Type: 'UnitMoved', Key: 'w.service', Index: 4, Payload: { Unit: 'w.service', Machine: B, Reason: 'r', From: A },
  });
});
