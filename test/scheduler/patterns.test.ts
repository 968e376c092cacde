/** The scheduler's pattern fast paths must agree with Go's path.Match (globMatch) everywhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matcher } from '../../src/scheduler/patterns.js';
import { globMatch } from '../../src/unit/index.js';

const piece = fc.constantFrom('a', 'b', '@', '.', 'service', '*', '/', '?', '[a-b]', '\\', '**');
const text = fc.array(piece, { maxLength: 7 }).map((xs) => xs.join(''));
const name = fc.array(fc.constantFrom('a', 'b', '@', '.', 'service', '/', '*'), { maxLength: 8 }).map((xs) => xs.join(''));

test('property: matcher(pattern).test(name) equals globMatch(pattern, name)', () => {
  fc.assert(
    fc.property(text, name, (p, n) => {
      assert.equal(matcher(p).test(n), globMatch(p, n), `pattern ${JSON.stringify(p)} name ${JSON.stringify(n)}`);
    }),
    { numRuns: 20_000 },
  );
});

test('plain names are recognised as literals; globs are not', () => {
  assert.equal(matcher('a.service').literal, 'a.service');
  assert.equal(matcher('web@*.service').literal, undefined);
  assert.equal(matcher('web@*.service').test('web@1.service'), true);
  assert.equal(matcher('web@*.service').test('web@.service'), true);
  assert.equal(matcher('web@*.service').test('db@1.service'), false);
  assert.equal(matcher('a*b*a').test('aba'), true);
  assert.equal(matcher('a*b*a').test('ab'), false);
  // A middle part may not overlap the suffix.
  assert.equal(matcher('a*aa*a').test('aaa'), false);
  assert.equal(matcher('a*aa*a').test('aaaa'), true);
});
