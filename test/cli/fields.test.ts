/** --fields validation (fleet's messages) and per-field rendering. */
import { exitCodeOf } from '../../src/util/exit-codes.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMetadata } from '../../src/cli/commands/list-machines.js';
import { type FieldSet, jsonRows, orDash, parseFields, textRows } from '../../src/cli/fields.js';
import { InvalidInputError } from '../../src/util/errors.js';

const allowed = ['unit', 'machine', 'active', 'sub'];

describe('parseFields', () => {
  it('defaults when not given', () => {
    assert.deepEqual(parseFields(undefined, allowed, ['unit', 'sub']), ['unit', 'sub']);
  });

  it('keeps the order asked for', () => {
    assert.deepEqual(parseFields('sub,unit', allowed, []), ['sub', 'unit']);
  });

  it('rejects an empty format', () => {
    assert.throws(() => parseFields('', allowed, []), (e: unknown) => e instanceof InvalidInputError && e.message === 'Must define output format' && exitCodeOf(e) === 1);
  });

  it('rejects unknown keys, quoting them', () => {
    assert.throws(() => parseFields('unit,bogus', allowed, []), { message: 'Invalid key in output format: "bogus"' });
    assert.throws(() => parseFields('unit,,sub', allowed, []), { message: 'Invalid key in output format: ""' });
  });
});

describe('rendering', () => {
  interface R { name: string; ip: string }
  const set: FieldSet<R> = {
    unit: { text: (r) => r.name, json: (r) => r.name },
    ip: { text: (r, c) => (c.full ? orDash(r.ip) : orDash(r.ip).slice(0, 3)), json: (r) => r.ip || null },
  };

  it('text and JSON rows follow the selected fields', () => {
    const rows = [{ name: 'a', ip: '10.0.0.1' }, { name: 'b', ip: '' }];
    assert.deepEqual(textRows(rows, ['ip', 'unit'], set, { full: false }), [['10.', 'a'], ['-', 'b']]);
    assert.deepEqual(textRows(rows, ['ip'], set, { full: true }), [['10.0.0.1'], ['-']]);
    assert.deepEqual(jsonRows(rows, ['unit', 'ip'], set), [{ unit: 'a', ip: '10.0.0.1' }, { unit: 'b', ip: null }]);
  });

  it('machine metadata: sorted k=v pairs, "-" when empty', () => {
    assert.equal(formatMetadata({ region: 'us', az: 'b' }), 'az=b,region=us');
    assert.equal(formatMetadata({}), '-');
  });
});
