import { exitCodeOf } from '../../src/util/exit-codes.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateUnitName, isValidUnitName, parseUnitName, mangleUnitName, shortHash, RESERVED_UNIT_NAMES } from '../../src/unit/index.js';
import { LEASE_TARGET } from '../../src/agent/fence.js';
import { InvalidInputError } from '../../src/util/errors.js';

test('valid unit names', () => {
  const valid = [
    'foo.service', 'foo@.service', 'foo@bar.service', 'a.b.c.socket', 'x:y_z-w.timer', 'dev-disk-by\\x2dlabel.device',
    'a.automount', 'a.busname', 'a.mount', 'a.path', 'a.scope', 'a.slice', 'a.snapshot', 'a.swap', 'a.target',
    'foo@bar.path', 'foo@bar.socket', 'foo@bar.target', 'foo@bar.timer', 'foo@bar@baz.service',
    `${'a'.repeat(247)}.service`, 'a.b.service', 'flotilla-web.service', 'flotilla-lease.service',
  ];
  for (const name of valid) assert.doesNotThrow(() => validateUnitName(name), name);
});

test('invalid unit names carry fleet\'s message, the name and what is allowed', () => {
  const cases: Array<[string, string]> = [
    ['', 'invalid unit name "": unit name cannot be empty'],
    [`${'a'.repeat(248)}.service`, `invalid unit name "${'a'.repeat(248)}.service": unit name exceeds maximum length (255); it is 256 bytes`],
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
    ['.service', 'invalid unit name ".service": unit name cannot start with "." (rename the unit)'],
    ['.hidden.service', 'invalid unit name ".hidden.service": unit name cannot start with "." (rename the unit)'],
    ['flotilla-lease.target', 'invalid unit name "flotilla-lease.target": this name is reserved: the Flotilla agent writes this unit on every host itself (rename the unit)'],
  ];
  for (const [name, message] of cases) {
    assert.throws(() => validateUnitName(name), (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.equal(exitCodeOf(err), 1);
      assert.equal(err.message, message);
      return true;
    });
  }
});

test('length limit is in bytes and 255 (systemd\'s, and a file name\'s) is the most allowed', () => {
  assert.doesNotThrow(() => validateUnitName(`${'a'.repeat(247)}.service`)); // 255 bytes
  assert.throws(() => validateUnitName(`${'a'.repeat(248)}.service`), /exceeds maximum length \(255\); it is 256 bytes/);
  assert.throws(() => validateUnitName(`${'é'.repeat(130)}.service`), /exceeds maximum length \(255\); it is 268 bytes/);
});

test('the names the agent writes for itself are refused, and only those', () => {
  assert.deepEqual([...RESERVED_UNIT_NAMES].sort(), ['flotilla-fence.target', 'flotilla-fence.timer', 'flotilla-lease.target']);
  // One list: the agent's fence uses the very names validation refuses.
  assert.ok(RESERVED_UNIT_NAMES.has(LEASE_TARGET));
  for (const name of RESERVED_UNIT_NAMES) assert.throws(() => validateUnitName(name), /reserved/, name);
  assert.ok(isValidUnitName('flotilla-fence.service'));
});

test('isValidUnitName: the same rule without an exception, false for what is not a string', () => {
  assert.equal(isValidUnitName('web@1.service'), true);
  for (const bad of ['x/../../../../etc/cron.d/evil.service', '../evil.service', '.x.service', `${'a'.repeat(248)}.service`, '', 42, null, undefined]) {
    assert.equal(isValidUnitName(bad), false, String(bad));
  }
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
