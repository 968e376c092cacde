/** Dynamic metadata input: keys, values, machine arguments, one change set. */
import { exitCodeOf } from '../../src/util/exit-codes.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMetadataAssignment, resolveMachine, validateMetadataChange } from '../../src/client/metadata.js';
import { ExitCode, InvalidInputError } from '../../src/util/errors.js';

const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const M2 = '11aa0000ab5e4c7f9a1d0c2b3e4f5a6b';

describe('metadata input', () => {
  it('accepts keys and values fleet would match', () => {
    assert.deepEqual(validateMetadataChange({ set: { 'disk.type': 'ssd', rack_1: 'r 12' }, remove: ['az', 'az'] }), {
      set: { 'disk.type': 'ssd', rack_1: 'r 12' },
      remove: ['az'],
    });
  });

  it('refuses bad input with one line naming the thing and the fix', () => {
    const cases: Array<[Parameters<typeof validateMetadataChange>[0], string]> = [
      [{ set: { 'a b': 'x' } }, 'invalid metadata key "a b": use only letters, digits, "_", "." and "-"'],
      [{ remove: ['a/b'] }, 'invalid metadata key "a/b": use only letters, digits, "_", "." and "-"'],
      [{ set: { disk: '' } }, 'metadata value for key "disk" is empty: give disk=VALUE, or --remove disk to remove the key'],
      [{ set: { disk: 'a=b' } }, 'metadata value "a=b" for key "disk" contains "=": values cannot contain "=", ",", \'"\' or control characters'],
      [{ set: { disk: 'a,b' } }, 'metadata value "a,b" for key "disk" contains ",": values cannot contain "=", ",", \'"\' or control characters'],
      [{ set: { disk: 'a\nb' } }, 'metadata value "a\\nb" for key "disk" contains "\\n": values cannot contain "=", ",", \'"\' or control characters'],
      [{ set: { disk: ' ssd' } }, 'metadata value " ssd" for key "disk" starts or ends with a blank: remove it'],
      [{ set: { disk: 'ssd' }, remove: ['disk'] }, 'metadata key "disk" is both set and removed: keep one of the two'],
      [{}, 'no metadata change given: give KEY=VALUE to set a key or --remove KEY to remove one'],
    ];
    for (const [change, message] of cases) {
      assert.throws(() => validateMetadataChange(change), (err: unknown) => {
        assert.ok(err instanceof InvalidInputError);
        assert.equal(err.message, message);
        assert.equal(exitCodeOf(err), ExitCode.failure);
        return true;
      });
    }
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']));
    assert.throws(() => validateMetadataChange({ set: many }), /101 metadata changes in one command: give at most 100/);
  });

  it('KEY=VALUE splits on the first "="', () => {
    assert.deepEqual(parseMetadataAssignment('a=b'), ['a', 'b']);
    assert.deepEqual(parseMetadataAssignment('a='), ['a', '']);
    assert.deepEqual(parseMetadataAssignment('a=b=c'), ['a', 'b=c']);
    assert.throws(() => parseMetadataAssignment('disk'), { message: 'invalid metadata "disk": use KEY=VALUE to set a key, or --remove KEY to remove one' });
  });

  it('machines: full id, unique prefix, the list-machines legend, any case', () => {
    const reg = [M1, M2];
    assert.deepEqual(resolveMachine(M1, reg), { machineId: M1, registered: true });
    assert.deepEqual(resolveMachine('113', reg), { machineId: M1, registered: true });
    assert.deepEqual(resolveMachine('113F16A7...', reg), { machineId: M1, registered: true });
    // A machine that is away keeps (and may be given) dynamic metadata, as in fleet.
    assert.deepEqual(resolveMachine('f'.repeat(32), reg), { machineId: 'f'.repeat(32), registered: false });
    assert.throws(() => resolveMachine('11', reg), { message: 'machine "11" matches 2 machines (113f16a7..., 11aa0000...): give more of its id' });
    assert.throws(() => resolveMachine('22', reg), {
      message: 'no machine in the cluster has an id starting with "22": see flotctl list-machines, or give the full 32-character id',
    });
    assert.throws(() => resolveMachine('host-1', reg), {
      message: 'invalid machine "host-1": give a machine id or a unique prefix of one, as flotctl list-machines shows',
    });
    assert.throws(() => resolveMachine('', reg), /invalid machine ""/);
  });
});
