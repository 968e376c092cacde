import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, globMatch, globIsValid } from '../../src/unit/index.js';
import { callWithDeadline } from '../support/runaway.js';
import { referenceIsValid, referenceMatch } from './support/reference-glob.js';

// Go's path.Match test table; "bad" = ErrBadPattern, which fleet treats as no match.
const cases: Array<[string, string, boolean | 'bad']> = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'],
  ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'],
  ['[-x]', 'x', 'bad'],
  ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'],
  ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'],
  ['a[', 'a', 'bad'],
  ['a[', 'ab', 'bad'],
  ['a[', 'x', 'bad'],
  ['a/b[', 'x', 'bad'],
  ['*x', 'xxx', true],
  ['hello*', 'hello.service', true],
  ['*.service', 'web@8080.service', true],
  ['ping.?.service', 'ping.0.service', true],
  ['ping.?.service', 'pong.0.service', false],
];

test('globMatch follows Go path.Match', () => {
  for (const [pattern, name, want] of cases) {
    assert.equal(globMatch(pattern, name), want === true, `${pattern} vs ${name}`);
    assert.equal(globIsValid(pattern), want !== 'bad', `validity of ${pattern}`);
  }
});

test('compileGlob: one compiled pattern matches many names, invalid ones match nothing', () => {
  const g = compileGlob('web@*.service');
  assert.equal(g.valid, true);
  assert.deepEqual(['web@1.service', 'web@.service', 'db@1.service', 'web@a/b.service'].map((n) => g.test(n)), [true, true, false, false]);
  assert.equal(compileGlob('[a-').valid, false);
  assert.equal(compileGlob('[a-').test('[a-'), false);
});

// Small alphabets so that stars, classes, escapes and "/" meet often.
const patternChar = fc.constantFrom('a', 'b', '/', '*', '?', '[', ']', '^', '-', '\\', 'é', '☺');
const nameChar = fc.constantFrom('a', 'b', '/', '-', '[', ']', '*', 'é', '☺');
// Long chunks take the bit-parallel search: build some from whole elements.
const element = fc.constantFrom('a', 'b', '?', '[ab]', '[^a]', '[a-b]', '\\*', '/');

test('property: globMatch and globIsValid agree with a line-by-line port of Go path.Match', () => {
  fc.assert(
    fc.property(fc.string({ unit: patternChar, maxLength: 12 }), fc.string({ unit: nameChar, maxLength: 10 }), (pattern, name) => {
      assert.equal(globMatch(pattern, name), referenceMatch(pattern, name), `${pattern} vs ${name}`);
      assert.equal(globIsValid(pattern), referenceIsValid(pattern), `validity of ${pattern}`);
    }),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.array(element, { minLength: 1, maxLength: 45 })), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.string({ unit: fc.constantFrom('a', 'b', 'b', '/', '*'), maxLength: 90 }),
      (chunks, trailingStar, name) => {
        const pattern = chunks.map(([star, elems]) => (star ? '*' : '') + elems.join('')).join('') + (trailingStar ? '*' : '');
        assert.equal(globMatch(pattern, name), referenceMatch(pattern, name), `${pattern} vs ${name}`);
      },
    ),
    { numRuns: 5_000 },
  );
});

const GLOB = new URL('../../src/unit/glob.js', import.meta.url);

test('matching costs no more than the pattern and name are long (a 38 KB Replaces value took 5 s per match)', async () => {
  // Go's algorithm on slices copies the rest of the pattern per character.
  assert.equal(await callWithDeadline(GLOB, 'globMatch', [`a?${'b'.repeat(100_000)}`, 'x.service']), false);
  assert.equal(await callWithDeadline(GLOB, 'globMatch', [`*${'?'.repeat(5_000)}*x`, `${'a'.repeat(20_000)}.service`]), false);
  // ... and the rest of the name per star position (a 200 KB MachineOf value took 102 s to validate).
  assert.equal(await callWithDeadline(GLOB, 'globMatch', ['*y', `p${'x'.repeat(200_000)}.service`]), false);
  assert.equal(await callWithDeadline(GLOB, 'globMatch', ['*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100_000)]), false);
});
