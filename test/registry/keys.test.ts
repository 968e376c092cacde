import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Keys } from '../../src/registry/keys.js';
import { decodeDynamicMetadata, decodeMachineDynamicMetadata, mergeMetadata } from '../../src/registry/metadata-overlay.js';

const k = new Keys('/p/');

test('every parser inverts its builder', () => {
  assert.equal(k.unitOfKey(k.unit('a.service')), 'a.service');
  assert.equal(k.machineOfKey(k.machine('m1')), 'm1');
  assert.equal(k.contentOfKey(k.content('abc')), 'abc');
  assert.deepEqual(k.assignmentOfKey(k.assignment('m1', 'a.service')), { machineId: 'm1', unit: 'a.service' });
  assert.deepEqual(k.stateOfKey(k.state('a.service', 'm1')), { unit: 'a.service', machineId: 'm1' });
  assert.deepEqual(k.bidOfKey(k.bid('7', 'm1')), { round: '7', machineId: 'm1' });
  assert.equal(k.offerOfKey(k.offer('7')), '7');
  assert.equal(k.unplacedOfKey(k.unplaced('a.service')), 'a.service');
  assert.deepEqual(k.metadataOfKey(k.machineMetadata('m1', 'region')), { machineId: 'm1', key: 'region' });
  assert.equal(k.candidateOfKey(k.candidate('42')), '42');
  assert.equal(k.sourceOfKey(k.source('github.com/acme/infra:units')), 'github.com/acme/infra:units');
  assert.equal(k.sourceStatusOfKey(k.sourceStatus('a/b')), 'a/b');
  assert.deepEqual(k.inventoryOfKey(k.inventory('a/b', 'x.service')), { source: 'a/b', unit: 'x.service' });
});

test('parsers refuse keys of another kind, extra segments and empty parts', () => {
  assert.equal(k.unitOfKey(k.machine('m1')), undefined);
  assert.equal(k.unitOfKey(`${k.unitsPrefix}a/b`), undefined);
  assert.equal(k.unitOfKey(k.unitsPrefix), undefined);
  assert.equal(k.metadataOfKey(`${k.metadataPrefix}m1/a/b`), undefined);
  assert.equal(k.metadataOfKey(`${k.metadataPrefix}m1/`), undefined);
  assert.equal(k.assignmentOfKey(`${k.assignmentsPrefix}m1`), undefined);
  assert.equal(new Keys('/other/').unitOfKey(k.unit('a.service')), undefined);
});

test('unitOfAnyKey names the unit of records, states, assignments and unplaced records only', () => {
  assert.equal(k.unitOfAnyKey(k.unit('a.service')), 'a.service');
  assert.equal(k.unitOfAnyKey(k.state('a.service', 'm1')), 'a.service');
  assert.equal(k.unitOfAnyKey(k.assignment('m1', 'a.service')), 'a.service');
  assert.equal(k.unitOfAnyKey(k.unplaced('a.service')), 'a.service');
  assert.equal(k.unitOfAnyKey(k.machine('m1')), undefined);
});

test('dynamic metadata: one decoder, tombstones remove config keys', () => {
  const entries = [
    { key: k.machineMetadata('m1', 'region'), value: 'eu' },
    { key: k.machineMetadata('m1', 'disk'), value: '' },
    { key: k.machineMetadata('m2', 'region'), value: 'us' },
    { key: `${k.metadataPrefix}m1/bad/key`, value: 'x' },
    { key: k.machine('m1'), value: '{}' },
  ];
  assert.deepEqual(decodeDynamicMetadata(k, entries), new Map([['m1', { region: 'eu', disk: '' }], ['m2', { region: 'us' }]]));
  assert.deepEqual(decodeMachineDynamicMetadata(k, 'm1', entries), { region: 'eu', disk: '' });
  assert.deepEqual(mergeMetadata({ disk: 'ssd', rack: '1' }, { region: 'eu', disk: '' }), { rack: '1', region: 'eu' });
});
