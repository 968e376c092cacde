import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateUnitName, parseUnitName, mangleUnitName, shortHash } from '../../src/unit/index.js';
import { InvalidInputError } from '../../src/util/errors.js';

test('valid unit names', () => {
  const valid = [
    'foo.service', 'foo@.service', 'foo@bar.service', 'a.b.c.socket', 'x:y_z-w.timer', 'dev-disk-by\\x2dlabel.device',
    'a.automount', 'a.busname', 'a.mount', 'a.path', 'a.scope', 'a.slice', 'a.snapshot', 'a.swap', 'a.target',
    'foo@bar.path', 'foo@bar.socket', 'foo@bar.target', 'foo@bar.timer', 'foo@bar@baz.service',
    `${'a'.repeat(248)}.service`,
  ];
  for (const name of valid) assert.doesNotThrow(() => validateUnitName(name), name);
});

test('invalid unit names carry fleet\'s message, the name and what is allowed', () => {
  const cases: Array<[string, string]> = [
    ['', 'invalid unit name "": unit name cannot be empty'],
    [`${'a'.repeat(249)}.service`, `invalid unit name "${'a'.repeat(249)}.service": unit name exceeds maximum length (256); it is 257 bytes`],
    ['x', 'invalid unit name "x": unit name must contain "."'],
    ['foo.', 'invalid unit name "foo.": unit name cannot end in "."'],
    ['foo.bar', 'invalid unit name "foo.bar": invalid unit type: "bar" (expected one of automount, busname, device, mount, path, scope, service, slice, snapshot, socket, swap, target, timer)'],
    ['foo.Service', 'invalid unit name "foo.Service": invalid unit type: "Service" (expected one of automount, busname, device, mount, path, scope, service, slice, snapshot, socket, swap, target, timer)'],
    ['foo@bar.mount', 'invalid unit name "foo@bar.mount": invalid unit type for template: "mount" (templates and instances must be one of path, service, socket, target, timer)'],
    ['foo@.slice', 'invalid unit name "foo@.slice": invalid unit type for template: "slice" (templates and instances must be one of path, service, socket, target, timer)'],
    ['foo bar.service', 'invalid unit name "foo bar.service": invalid character \' \' in unit name (allowed: letters, digits and : _ . @ - \\)'],
    ['foo/bar.service', 'invalid unit name "foo/bar.service": invalid character \'/\' in unit name (allowed: letters, digits and : _ . @ - \\)'],
    ['foo\tbar.service', 'invalid unit name "foo\\tbar.service": invalid character \'\\t\' in unit name (allowed: letters, digits and : _ . @ - \\)'],
    ['café.service', 'invalid unit name "café.service": invalid character \'é\' in unit name (allowed: letters, digits and : _ . @ - \\)'],
    ['@foo.service', 'invalid unit name "@foo.service": unit name cannot start in "@"'],
  ];
  for (const [name, message] of cases) {
    assert.throws(() => validateUnitName(name), (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.equal(err.exitCode, 1);
      assert.equal(err.message, message);
      return true;
    });
  }
});

test('length limit is in bytes and 256 is allowed', () => {
  assert.doesNotThrow(() => validateUnitName(`${'a'.repeat(248)}.service`)); // 256 bytes
  assert.throws(() => validateUnitName(`${'é'.repeat(130)}.service`), /exceeds maximum length \(256\); it is 268 bytes/);
});

test('checks run in fleet\'s order: type before characters before leading "@"', () => {
  assert.throws(() => validateUnitName('@a b.bogus'), /invalid unit type: "bogus"/);
  assert.throws(() => validateUnitName('@a b.service'), /invalid character ' '/);
});

test('parseUnitName: plain unit', () => {
  assert.deepEqual(parseUnitName('foo.socket'), {
    fullName: 'foo.socket', name: 'foo', prefix: 'foo', suffix: 'socket',
    instance: '', template: '', isTemplate: false, isInstance: false,
  });
});

test('parseUnitName: template', () => {
  assert.deepEqual(parseUnitName('foo@.service'), {
    fullName: 'foo@.service', name: 'foo@', prefix: 'foo', suffix: 'service',
    instance: '', template: 'foo@.service', isTemplate: true, isInstance: false,
  });
});

test('parseUnitName: instance', () => {
  assert.deepEqual(parseUnitName('foo@bar.service'), {
    fullName: 'foo@bar.service', name: 'foo@bar', prefix: 'foo', suffix: 'service',
    instance: 'bar', template: 'foo@.service', isTemplate: false, isInstance: true,
  });
});

test('parseUnitName: instance is everything after the first "@", name up to the last "."', () => {
  const info = parseUnitName('web@a.b@c.timer');
  assert.equal(info.name, 'web@a.b@c');
  assert.equal(info.prefix, 'web');
  assert.equal(info.instance, 'a.b@c');
  assert.equal(info.template, 'web@.timer');
});

test('parseUnitName requires a "."', () => {
  assert.throws(() => parseUnitName('foo'), { name: 'InvalidInputError', message: 'invalid unit name "foo": unit name must contain "."' });
});

test('mangleUnitName: base name, .service appended unless a known suffix', () => {
  const cases: Array<[string, string]> = [
    ['foo', 'foo.service'],
    ['foo.service', 'foo.service'],
    ['foo.socket', 'foo.socket'],
    ['foo.timer', 'foo.timer'],
    ['foo.path', 'foo.path'],
    ['foo.device', 'foo.device'],
    ['foo.mount', 'foo.mount'],
    ['foo.automount', 'foo.automount'],
    ['foo.target', 'foo.target.service'],
    ['foo.slice', 'foo.slice.service'],
    ['units/hello.service', 'hello.service'],
    ['/abs/dir/web@8080.service', 'web@8080.service'],
    ['./hello', 'hello.service'],
    ['dir/hello.service/', 'hello.service'],
    ['foo@', 'foo@.service'],
  ];
  for (const [arg, want] of cases) assert.equal(mangleUnitName(arg), want, arg);
});

test('shortHash is the first 7 characters', () => {
  assert.equal(shortHash('1c6fb6f3684bafb0c173d8b8b957ceff031180c1'), '1c6fb6f');
});
