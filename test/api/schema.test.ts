import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/errors.js';
import { parseFlotillaUnitBody, parseMetadataOps, parseUnitBody } from '../../src/api/schema.js';

function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

test("fleet's Unit body: names case-insensitive as Go's decoder, read-only fields ignored", () => {
  assert.deepEqual(parseUnitBody({ name: 'a.service', desiredState: 'launched' }), { name: 'a.service', desiredState: 'launched' });
  assert.deepEqual(parseUnitBody({ Name: 'a.service', Options: [{ Section: 'Service', NAME: 'ExecStart', value: '/bin/true' }] }), {
    name: 'a.service',
    options: [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }],
  });
  assert.deepEqual(parseUnitBody({ currentState: 'launched', machineID: 'x', options: [] }), {});
});

test('unknown fields, wrong types, bad states: one 400 naming the field', () => {
  refuses(() => parseUnitBody([]), /^the unit must be a JSON object, not an array$/);
  refuses(() => parseUnitBody({ nmae: 'x' }), /^unknown field "nmae" in the unit: known fields are name, options/);
  refuses(() => parseUnitBody({ name: 'a', NAME: 'b' }), /field name is given twice/);
  refuses(() => parseUnitBody({ name: 3 }), /^unit.name must be a string, not a number$/);
  refuses(() => parseUnitBody({ desiredState: 'running' }), /^invalid desiredState "running": use one of inactive, loaded, launched$/);
  refuses(() => parseUnitBody({ options: {} }), /^unit.options must be an array/);
  refuses(() => parseUnitBody({ options: [{ section: 'S', name: 'N' }] }), /^unit.options\[0\].value is missing/);
  refuses(() => parseUnitBody({ options: [{ section: 'S', name: 'N', value: 1 }] }), /^unit.options\[0\].value must be a string/);
  refuses(() => parseUnitBody({ options: [{ section: 'S', name: 'N', value: 'v', extra: 1 }] }), /unknown field "extra" in unit.options\[0\]/);
  refuses(() => parseFlotillaUnitBody({ desiredState: 'loaded' }, true), /^options is missing or empty/);
  refuses(() => parseFlotillaUnitBody({ name: 'a' }, false), /unknown field "name"/);
});

test("PATCH /machines: fleet's value object or a plain string; checked op by op", () => {
  assert.deepEqual(parseMetadataOps([
    { op: 'add', path: '/m1/metadata/foo', Value: { value: 'bar' } },
    { op: 'replace', path: '/m1/metadata/a.b-c_d', value: 'plain' },
    { op: 'remove', path: '/m2/metadata/foo' },
  ]), [
    { op: 'add', machineId: 'm1', key: 'foo', value: 'bar' },
    { op: 'replace', machineId: 'm1', key: 'a.b-c_d', value: 'plain' },
    { op: 'remove', machineId: 'm2', key: 'foo' },
  ]);
  assert.deepEqual(parseMetadataOps([{ op: 'add', path: '/metadata/k', value: 'v' }], 'm9'), [{ op: 'add', machineId: 'm9', key: 'k', value: 'v' }]);
  refuses(() => parseMetadataOps({}), /must be a JSON array/);
  refuses(() => parseMetadataOps([]), /holds no operations/);
  refuses(() => parseMetadataOps([{ op: 'move', path: '/m/metadata/k', value: 'v' }]), /^operation 0: invalid op "move": expect add, remove, or replace$/);
  refuses(() => parseMetadataOps([{ op: 'add', path: '/m/metadata/a b', value: 'v' }]), /^operation 0: machine metadata path "\/m\/metadata\/a b" invalid/);
  refuses(() => parseMetadataOps([{ op: 'add', path: '/m/metadata/k', value: '' }]), /^operation 0: invalid value: add and replace require a value$/);
  refuses(() => parseMetadataOps([{ op: 'add', path: '/m/metadata/k', value: { value: 1 } }]), /operation 0.value.value must be a string/);
  refuses(() => parseMetadataOps([{ op: 'add', path: '/m/metadata/k', value: { valeu: 'x' } }]), /unknown field "valeu"/);
  refuses(() => parseMetadataOps([{ op: 'add', path: '/m/metadata/k', value: 'v' }], 'm'), /use \/metadata\/<key>/);
});

test('at most 100 metadata operations per request', () => {
  const ops = Array.from({ length: 101 }, (_, i) => ({ op: 'add', path: `/m${i}/metadata/k`, value: 'v' }));
  refuses(() => parseMetadataOps(ops), /^the body holds 101 operations: send at most 100 per request$/);
  assert.equal(parseMetadataOps(ops.slice(0, 100)).length, 100);
});
