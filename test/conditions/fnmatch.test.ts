import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnmatch } from '../../src/conditions/fnmatch.js';
import { callWithDeadline } from '../support/runaway.js';

// [pattern, text, FNM_CASEFOLD, expected]: every expectation is what glibc's
// fnmatch(3) returns for it (checked with glibc 2.41 when written).
const GLIBC: Array<[string, string, boolean, boolean]> = [
  ["web-1", "web-1", false, true],
  ["web-*", "web-1", false, true],
  ["WEB-1", "web-1", true, true],
  ["WEB-1", "web-1", false, false],
  ["*-1", "web-1", false, true],
  ["web-[0-9]", "web-1", false, true],
  ["web-[!0-9]", "web-1", false, false],
  ["web-[^1]", "web-1", false, false],
  ["[[:alpha:]]eb-1", "web-1", false, true],
  ["[[:digit:]]*", "web-1", false, false],
  ["w?b-1", "web-1", false, true],
  ["web\\-1", "web-1", false, true],
  ["web-1\\", "web-1", false, false],
  ["a*b*c", "axxbyyc", false, true],
  ["a*b*c", "axxbyy", false, false],
  ["*", "", false, true],
  ["", "", false, true],
  ["?", "", false, false],
  ["[]]", "]", false, true],
  ["[!]]", "a", false, true],
  ["[!]]", "]", false, false],
  ["x[", "x[", false, true],
  ["[[:foo:]]", "a", false, false],
  ["[A-Z]", "a", true, true],
  ["[[:upper:]]", "a", true, false],
  ["[[:upper:]]", "A", true, true],
  ["*.example.com", "web1.example.com", false, true],
  [".*", ".hidden", false, true],
  ["*", "a/b", false, true],
  ["a?b", "a/b", false, true],
  ["[a-]", "-", false, true],
  ["[z-a]", "m", false, false],
  ["[\\]]", "]", false, true],
  ["[a\\-z]", "m", false, false],
  ["[a\\-z]", "-", false, true],
  ["**x", "abx", false, true],
  ["*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false],
  ["[[:alpha:][:digit:]]", "7", false, true],
  ["[[.a.]]", "a", false, true],
  ["[[=a=]]", "a", false, true],
  ["\\*", "*", false, true],
  ["\\*", "a", false, false],
  ["[*]", "*", false, true],
  ["web[0-9]*.lan", "web12.lan", false, true],
  ["Web[0-9]*.LAN", "web12.lan", true, true],
];

test('fnmatch agrees with glibc (no FNM_PATHNAME, no FNM_PERIOD)', () => {
  for (const [pattern, text, caseFold, want] of GLIBC) {
    assert.equal(fnmatch(pattern, text, { caseFold }), want, `fnmatch(${JSON.stringify(pattern)}, ${JSON.stringify(text)}, casefold=${caseFold})`);
  }
});

test('a "-" outside brackets is an ordinary character (hostnames and machine ids contain it)', () => {
  // The regex-based matcher escaped it as "\\-", which the "u" flag rejects: every bid threw.
  assert.equal(fnmatch('web-1', 'web-1', { caseFold: true }), true);
  assert.equal(fnmatch('web-*.example-dc.net', 'web-17.example-dc.net', { caseFold: true }), true);
  assert.equal(fnmatch('db-1', 'web-1', { caseFold: true }), false);
});

const FNMATCH = new URL('../../src/conditions/fnmatch.js', import.meta.url);

test('stars cannot make a match run away: 12 stars then X against 27 characters, 40 against 60', async () => {
  // A backtracking regex took 67 s for the first (80 s for 20 stars against 15 characters).
  assert.equal(await callWithDeadline(FNMATCH, 'fnmatch', ['*'.repeat(12) + 'X', 'a'.repeat(27), { caseFold: true }]), false);
  assert.equal(await callWithDeadline(FNMATCH, 'fnmatch', ['*'.repeat(40) + 'X', 'a'.repeat(60), { caseFold: true }]), false);
  assert.equal(await callWithDeadline(FNMATCH, 'fnmatch', ['*a'.repeat(40) + '*b', 'a'.repeat(64), {}]), false);
  assert.equal(await callWithDeadline(FNMATCH, 'fnmatch', ['*a'.repeat(40) + '*', 'a'.repeat(64), {}]), true);
});
