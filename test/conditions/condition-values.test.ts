/** The value languages inside conditions, hostname globs, specifiers and architecture names (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWith, isHiddenOrBackup, parseSize, parseUnsigned, splitKernelCommandLine } from '../../src/conditions/condition-values.js';
import { expandConditionSpecifiers } from '../../src/conditions/condition-specifiers.js';
import { fnmatch } from '../../src/conditions/fnmatch.js';
import { architectureFromUname } from '../../src/conditions/host-facts.js';

test('parseSize: systemd parse_size with base 1024', () => {
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('512B'), 512);
  assert.equal(parseSize('1K'), 1024);
  assert.equal(parseSize('1 K'), 1024);
  assert.equal(parseSize(' 2M'), 2 * 1024 ** 2);
  assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('10.M'), 10 * 1024 ** 2);
  assert.equal(parseSize('1T'), 1024 ** 4);
  assert.equal(parseSize('1G 512M'), 1024 ** 3 + 512 * 1024 ** 2);
  for (const bad of ['', 'G', '-1', '1X', '1g', '1K 1G', '1G ', '.5G', '1KiB']) assert.equal(parseSize(bad), undefined, bad);
});

test('parseUnsigned: base 0 like strtoul, nothing trailing', () => {
  assert.equal(parseUnsigned('4'), 4);
  assert.equal(parseUnsigned(' 4'), 4);
  assert.equal(parseUnsigned('0'), 0);
  assert.equal(parseUnsigned('0x10'), 16);
  assert.equal(parseUnsigned('010'), 8);
  for (const bad of ['', '-1', '4 ', '4x', 'x4', '09']) assert.equal(parseUnsigned(bad), undefined, bad);
});

test('compareWith: operators, longest first; default >=', () => {
  const n = (s: string) => parseUnsigned(s);
  assert.equal(compareWith('4', 4, n), true);
  assert.equal(compareWith('5', 4, n), false);
  assert.equal(compareWith('<=4', 4, n), true);
  assert.equal(compareWith('<4', 4, n), false);
  assert.equal(compareWith('>=5', 4, n), false);
  assert.equal(compareWith('>3', 4, n), true);
  assert.equal(compareWith('=4', 4, n), true);
  assert.equal(compareWith('==4', 4, n), true);
  assert.equal(compareWith('!=4', 4, n), false);
  assert.equal(compareWith('<>3', 4, n), true);
  assert.equal(compareWith('=>4', 4, n), undefined);
  assert.equal(compareWith('$=4', 4, n), undefined);
});

test('kernel command line words: whitespace splits, quotes removed anywhere in a word', () => {
  assert.deepEqual(splitKernelCommandLine('  a b=c\td="e f" "g h"=i \'j\'\n'), ['a', 'b=c', 'd=e f', 'g h=i', 'j']);
  assert.deepEqual(splitKernelCommandLine('x="unterminated y'), ['x=unterminated y']);
  assert.deepEqual(splitKernelCommandLine('""'), ['']);
  assert.deepEqual(splitKernelCommandLine(''), []);
});

test('hidden or backup entries, as ConditionDirectoryNotEmpty= skips them', () => {
  for (const n of ['.x', 'a~', 'lost+found', 'aquota.user', 'a.rpmnew', 'a.dpkg-dist', 'a.bak', 'a.swp', 'a.ignore']) assert.equal(isHiddenOrBackup(n), true, n);
  for (const n of ['a', 'a.conf', 'bak', 'a.backup']) assert.equal(isHiddenOrBackup(n), false, n);
});

test('fnmatch: POSIX globs without FNM_PATHNAME', () => {
  assert.equal(fnmatch('web*', 'web1.example.com'), true);
  assert.equal(fnmatch('*', 'a/b'), true, '* crosses slashes');
  assert.equal(fnmatch('?', '.'), true);
  assert.equal(fnmatch('web?', 'web12'), false);
  assert.equal(fnmatch('[a-c]x', 'bx'), true);
  assert.equal(fnmatch('[!a-c]x', 'bx'), false);
  assert.equal(fnmatch('[^a-c]x', 'dx'), true);
  assert.equal(fnmatch('[]]', ']'), true);
  assert.equal(fnmatch('[!]]', 'a'), true);
  assert.equal(fnmatch('[[:digit:]]*', '7up'), true);
  assert.equal(fnmatch('[[:upper:]]', 'a'), false);
  assert.equal(fnmatch('\\*', '*'), true);
  assert.equal(fnmatch('\\*', 'a'), false);
  assert.equal(fnmatch('[abc', '[abc'), true, 'an unclosed bracket is literal');
  assert.equal(fnmatch('a.c', 'abc'), false, 'regex characters are literal');
  assert.equal(fnmatch('(a|b)', '(a|b)'), true);
  assert.equal(fnmatch('WEB*', 'web1'), false);
  assert.equal(fnmatch('WEB*', 'web1', { caseFold: true }), true);
  assert.equal(fnmatch('[z-a]', 'q'), false, 'an inverted range matches nothing');
});

test('condition specifiers: name parts, unescaping, host values, %% and the unknown', () => {
  const h = { hostname: 'web1.example.com', machineId: 'ab'.repeat(16), architecture: 'arm64' };
  const x = (v: string, name = 'my-app@dev-sda1.service') => expandConditionSpecifiers(v, name, h);
  assert.deepEqual(x('%n|%N|%p|%i|%I|%j|%f'), { kind: 'expanded', value: 'my-app@dev-sda1.service|my-app@dev-sda1|my-app|dev-sda1|dev/sda1|app|/dev/sda1' });
  assert.deepEqual(x('%P|%J', 'a-b@x.service'), { kind: 'expanded', value: 'a/b|b' });
  assert.deepEqual(x('%f', 'var-lib.mount'), { kind: 'expanded', value: '/var/lib' });
  assert.deepEqual(x('%I', 'a@x\\x2dy.service'), { kind: 'expanded', value: 'x-y' });
  assert.deepEqual(x('%H %l %m %a'), { kind: 'expanded', value: `web1.example.com web1 ${'ab'.repeat(16)} arm64` });
  assert.deepEqual(x('100%%'), { kind: 'expanded', value: '100%' });
  assert.deepEqual(x('trailing%'), { kind: 'expanded', value: 'trailing%' });
  assert.deepEqual(x('%i', 'plain.service'), { kind: 'expanded', value: '' });
  assert.deepEqual(x('%t/x'), { kind: 'unknown' });
  assert.deepEqual(x('%b'), { kind: 'unknown' });
  assert.deepEqual(x('%Z'), { kind: 'ignored' });
});

test('architecture names from uname, as systemd maps them', () => {
  const cases: Array<[string, 'LE' | 'BE', string]> = [
    ['x86_64', 'LE', 'x86-64'], ['i686', 'LE', 'x86'], ['aarch64', 'LE', 'arm64'], ['aarch64_be', 'BE', 'arm64-be'],
    ['armv7l', 'LE', 'arm'], ['armv7b', 'BE', 'arm-be'], ['ppc64le', 'LE', 'ppc64-le'], ['ppc64', 'BE', 'ppc64'],
    ['s390x', 'BE', 's390x'], ['riscv64', 'LE', 'riscv64'], ['loongarch64', 'LE', 'loongarch64'],
    ['mips64', 'LE', 'mips64-le'], ['mips', 'BE', 'mips'], ['sh4', 'LE', 'sh'], ['sh5', 'LE', 'sh64'], ['weird9', 'LE', 'weird9'],
  ];
  for (const [m, order, want] of cases) assert.equal(architectureFromUname(m, order), want, m);
});
