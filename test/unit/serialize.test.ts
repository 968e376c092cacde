import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitFile, UnitFileError, shortHash, validateUnit, validateUnitFile, type UnitOption } from '../../src/unit/index.js';

function o(section: string, name: string, value: string): UnitOption {
  return { section, name, value };
}

// --- serialization and hash ---

test('hash vector: [Service] ExecStart=/bin/sleep 100', () => {
  const u = UnitFile.parse('[Service]\nExecStart=/bin/sleep 100\n');
  assert.equal(u.serialize(), '[Service]\nExecStart=/bin/sleep 100\n');
  assert.equal(u.hash(), '1c6fb6f3684bafb0c173d8b8b957ceff031180c1');
  assert.equal(shortHash(u.hash()), '1c6fb6f');
});

test('hash vector: fleet fixture hello.service', () => {
  const u = UnitFile.parse('[Service]\nExecStart=/bin/bash -c "while true; do echo Hello, World!; sleep 1; done"\n');
  assert.equal(u.hash(), '3750b3e9f3962a56c7582929426e9abb012754cf');
});

test('empty unit serializes to "" and hashes to SHA-1 of nothing', () => {
  const u = UnitFile.parse('[Unit]\n');
  assert.equal(u.serialize(), '');
  assert.equal(u.hash(), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

const messy = [
  '# a comment before everything',
  '[Unit]',
  '  Description =  My service  ',
  '; another comment',
  '',
  '[Service]',
  'ExecStart=/bin/sleep 100   ',
  '\t  Restart\t=always',
  '[Unit]',
  'After=network.target',
  '[X-Fleet]',
  '   Conflicts=other*.service',
  '[Service]',
  'RestartSec=5',
  '',
  '',
].join('\n');

const normalized = [
  '[Unit]',
  'Description=My service',
  'After=network.target',
  '',
  '[Service]',
  'ExecStart=/bin/sleep 100',
  'Restart=always',
  'RestartSec=5',
  '',
  '[X-Fleet]',
  'Conflicts=other*.service',
  '',
].join('\n');

test('serialization merges repeated sections in first-appearance order, no trailing blank line', () => {
  assert.equal(UnitFile.parse(messy).serialize(), normalized);
});

test('repeated sections, comments and odd whitespace hash equal to the normalized form', () => {
  const a = UnitFile.parse(messy);
  const b = UnitFile.parse(normalized);
  assert.equal(a.hash(), b.hash());
  // computed independently: printf '<normalized>' | sha1sum
  assert.equal(a.hash(), '912fd6e78cb3df39849f1ef6a0e6bc7460744b14');
  assert.ok(a.matches(b));
  assert.notEqual(a.hash(), UnitFile.parse(normalized.replace('RestartSec=5', 'RestartSec=6')).hash());
});

test('round trip: parse(serialize(x)) is identical', () => {
  for (const text of [messy, normalized, '[Service]\nExecStart=echo \\\n  "pi\\\n  ng"\n', '[Unit]\nDescription= words here \\\n  \n[Service]\nA=\n', '[©]\nµ☃=ÇôrèÕ$']) {
    const first = UnitFile.parse(text);
    const second = UnitFile.parse(first.serialize());
    // options come back grouped by section (repeated sections merged), otherwise unchanged
    const grouped = first.sections().flatMap((s) => first.options.filter((opt) => opt.section === s));
    assert.deepEqual(second.options, grouped);
    assert.deepEqual(UnitFile.parse(second.serialize()).options, second.options);
    assert.equal(second.serialize(), first.serialize());
    assert.equal(second.hash(), first.hash());
  }
});

// --- accessors ---

test('values, sections and description', () => {
  const u = UnitFile.parse(messy + '\n[Unit]\nDescription=second\n');
  assert.deepEqual(u.sections(), ['Unit', 'Service', 'X-Fleet']);
  assert.deepEqual(u.values('Unit', 'Description'), ['My service', 'second']);
  assert.deepEqual(u.values('Service', 'Nope'), []);
  assert.equal(u.description(), 'My service');
  assert.equal(UnitFile.parse('[Service]\nDescription=not unit\n').description(), undefined);
});

test('fromOptions copies and freezes its input', () => {
  const input = [o('Service', 'ExecStart', '/bin/true'), o('Unit', 'Description', 'x')];
  const u = UnitFile.fromOptions(input);
  input.push(o('Service', 'Restart', 'always'));
  assert.equal(u.options.length, 2);
  assert.ok(Object.isFrozen(u.options));
  assert.ok(Object.isFrozen(u.options[0]));
  assert.equal(u.serialize(), '[Service]\nExecStart=/bin/true\n\n[Unit]\nDescription=x\n');
});

test('validateUnitFile: option lists must survive a round trip', () => {
  validateUnitFile(UnitFile.fromOptions([o('Service', 'ExecStart', '/bin/true')]));
  assert.throws(
    () => validateUnitFile(UnitFile.fromOptions([o('Service', 'ExecStart', 'a\nb')])),
    { name: 'UnitFileError', message: 'unit file line 3: "b" has no "=" (expected Name=Value)' },
  );
  assert.throws(
    () => validateUnitFile(UnitFile.fromOptions([o('Service', 'ExecStart', 'x'.repeat(3000))])),
    (err: unknown) => err instanceof UnitFileError && err.line === 2 && err.message.includes('line too long (max 2048 bytes)'),
  );
});

test('a value ending in "\\ " is refused: stored, it would swallow the next line', () => {
  // Validated as Conflicts=[db*.service]; the stored text read back had no Conflicts at all.
  const file = UnitFile.parse('[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=false \\ \nConflicts=db*.service\n');
  assert.deepEqual(file.values('X-Fleet', 'Global'), ['false \\']);
  const message =
    '[X-Fleet] Global=: the value ends in a backslash, which the stored copy would read as a line continuation, swallowing the next line; remove the backslash (or the space after it)';
  assert.throws(() => validateUnitFile(file), { name: 'InvalidInputError', message });
  assert.throws(() => validateUnit(file, 'x.service'), { message });
});

test('a continuation backslash on the last line without a newline is refused too (stored, it gains one)', () => {
  assert.throws(() => validateUnitFile(UnitFile.parse('[Service]\nExecStart=/bin/echo \\')), /\[Service\] ExecStart=: the value ends in a backslash/);
  validateUnitFile(UnitFile.parse('[Service]\nExecStart=/bin/echo \\\n'));
  validateUnitFile(UnitFile.parse('[Service]\nExecStart=/bin/echo \\\nhi\n'));
});

test('options that would be stored differently are refused, naming the option', () => {
  assert.throws(
    () => validateUnitFile(UnitFile.fromOptions([o('Service', 'ExecStart', ' padded')])),
    { message: '[Service] ExecStart=: cannot be stored as written (it would read back as "ExecStart=padded"); check the option\'s name and value for stray "=", "[", "]" or surrounding whitespace' },
  );
  assert.throws(() => validateUnitFile(UnitFile.fromOptions([o('Service', 'A=B', 'c')])), /\[Service\] A=B=: cannot be stored as written \(it would read back as "A=B=c"\)/);
});

test('lines systemd would read differently are refused: a bare carriage return or NUL, an option without a name', () => {
  assert.throws(() => validateUnitFile(UnitFile.parse('[Unit]\nDescription=a\rb\n')), {
    message: '[Unit] Description=: contains a carriage return (U+000D) that is not part of a line end, which systemd reads as a line break: remove it',
  });
  assert.throws(() => validateUnitFile(UnitFile.parse('[Unit]\nDescription=a\0b\n')), /\[Unit\] Description=: contains a NUL character/);
  assert.throws(() => validateUnitFile(UnitFile.parse('[Unit]\n=value\n')), { message: '[Unit] =: an option without a name is ignored by systemd: name it or remove the line' });
  // CRLF line ends are line ends.
  validateUnitFile(UnitFile.parse('[Unit]\r\nDescription=a b\r\n'));
});

test('a value line ending in an escaped backslash is refused: systemd would not continue it, the engine would', () => {
  // systemd would run ExecStartPre=/bin/evil; fleet's parser (the engine's) sees one ExecStart.
  const file = UnitFile.parse('[Service]\nExecStart=/bin/echo \\\\\nExecStartPre=/bin/evil\n');
  assert.deepEqual(file.values('Service', 'ExecStart'), ['/bin/echo \\\\\nExecStartPre=/bin/evil']);
  assert.throws(() => validateUnitFile(file), {
    message: '[Service] ExecStart=: line 1 of the value ends in an escaped backslash ("\\\\"), which systemd does not continue onto the next line (fleet does): end the line with an odd number of backslashes',
  });
  // An odd number continues for both; so does one before a blank line that ends the value.
  validateUnitFile(UnitFile.parse('[Service]\nExecStart=/bin/echo \\\\\\\nhi\n'));
  validateUnitFile(UnitFile.parse('[Service]\nExecStart=/bin/echo \\\\\n\n'));
});
