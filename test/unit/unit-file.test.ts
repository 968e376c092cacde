import { exitCodeOf } from '../../src/util/exit-codes.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitFile, UnitFileError, type UnitOption } from '../../src/unit/index.js';
import { InvalidInputError } from '../../src/util/errors.js';
import { callWithDeadline } from '../support/runaway.js';

function opts(text: string): UnitOption[] {
  return UnitFile.parse(text).options.map((o) => ({ ...o }));
}

function o(section: string, name: string, value: string): UnitOption {
  return { section, name, value };
}

function parseError(text: string): UnitFileError {
  try {
    UnitFile.parse(text);
  } catch (err) {
    assert.ok(err instanceof UnitFileError, `expected UnitFileError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail to parse`);
}

// --- before the first section ---

test('options before the first section are skipped', () => {
  assert.deepEqual(opts('Description=Foo\n[Unit]\nDescription=Bar\n'), [o('Unit', 'Description', 'Bar')]);
});

test('garbage before the first section is skipped', () => {
  assert.deepEqual(opts('<<<<<<<<\n[Unit]\nDescription=Bar\n'), [o('Unit', 'Description', 'Bar')]);
});

test('comments before the first section are skipped, including a "[" inside them', () => {
  assert.deepEqual(opts('; alpha\n# see [Unit]\n[Service]\nA=b\n'), [o('Service', 'A', 'b')]);
});

test('a preamble comment ending in a backslash swallows the next line', () => {
  assert.deepEqual(opts('# comment \\\n[Unit]\n[Service]\nA=b\n'), [o('Service', 'A', 'b')]);
});

test('before the first section, "[" mid-line opens a section (character scan, as go-systemd)', () => {
  assert.deepEqual(opts('junk [Unit]\nA=b\n'), [o('Unit', 'A', 'b')]);
});

test('empty input and comment-only input have no options', () => {
  assert.deepEqual(opts(''), []);
  assert.deepEqual(opts('# nothing\n; here\n'), []);
});

// --- section headers ---

test('sections without options produce no options', () => {
  assert.deepEqual(opts('[Unit]\n[Service]\n[X-Third-Party]\n'), []);
});

test('whitespace after "]" is allowed', () => {
  assert.deepEqual(opts('[Unit] \t\nA=b\n'), [o('Unit', 'A', 'b')]);
});

test('garbage after a section name is an error naming the line', () => {
  const err = parseError('[Unit]\nA=b\n[Service] pants\nExecStart=/bin/true\n');
  assert.equal(err.line, 3);
  assert.equal(err.message, 'unit file line 3: found garbage after section name [Service]: "pants"; put options on their own line');
});

test('a section header without "]" is an error naming the line', () => {
  const err = parseError('[Unit]\nA=b\n\n[Service\nExecStart=/bin/true\n');
  assert.equal(err.line, 4);
  assert.equal(err.message, 'unit file line 4: unable to find end of section: "[Service" has no closing "]"');
});

test('a section header must close on its own line', () => {
  const err = parseError('[Unit\nDescription=Foo]\n');
  assert.equal(err.line, 1);
});

// --- inside a section ---

test('multiple options and sections, leading whitespace skipped', () => {
  assert.deepEqual(opts('[Unit]\n  Description=Foo\n\t Requires=baz.service\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[X-Third-Party]\nPants=on\n\n'), [
    o('Unit', 'Description', 'Foo'),
    o('Unit', 'Requires', 'baz.service'),
    o('Service', 'ExecStart', '/usr/bin/sleep infinity'),
    o('X-Third-Party', 'Pants', 'on'),
  ]);
});

test('"#" and ";" comments inside sections are ignored', () => {
  assert.deepEqual(opts('[Unit]\n; charlie\n# delta\n#Description=Foo\n  ;Description=Baz\nDescription=Bar\n# echo'), [
    o('Unit', 'Description', 'Bar'),
  ]);
});

test('a comment ending in a backslash continues onto the next line', () => {
  assert.deepEqual(opts('[Unit]\n# c \\\nA=b\nC=d\n'), [o('Unit', 'C', 'd')]);
  // only one trailing space is tolerated after the backslash, as in go-systemd
  assert.deepEqual(opts('[Unit]\n# c \\  \nA=b\nC=d\n'), [o('Unit', 'A', 'b'), o('Unit', 'C', 'd')]);
});

test('option names are trimmed and may contain spaces or garbage', () => {
  assert.deepEqual(opts('[Unit]\n Description   =words here\nSome Thing = Bar\n<<<<<<<<<<<=bar\n'), [
    o('Unit', 'Description', 'words here'),
    o('Unit', 'Some Thing', 'Bar'),
    o('Unit', '<<<<<<<<<<<', 'bar'),
  ]);
});

test('only the first "=" splits name from value', () => {
  assert.deepEqual(opts('[Service]\nEnvironment=FOO=bar=baz\n'), [o('Service', 'Environment', 'FOO=bar=baz')]);
});

test('a line without "=" is an error naming the line number', () => {
  const err = parseError('[Service]\nType=simple\nExecStart /bin/true\n');
  assert.ok(err instanceof InvalidInputError);
  assert.equal(exitCodeOf(err), 1);
  assert.equal(err.line, 3);
  assert.equal(err.message, 'unit file line 3: "ExecStart /bin/true" has no "=" (expected Name=Value)');
});

test('a line without "=" at end of input (no newline) is an error too', () => {
  const err = parseError('[Unit]\nDescription');
  assert.equal(err.message, 'unit file line 2: "Description" has no "=" (expected Name=Value)');
});

test('garbage inside a section is an error', () => {
  const err = parseError('# header\n\n[Unit]\n   <<<<<<\nDescription=Foo\n');
  assert.equal(err.line, 4);
  assert.equal(err.message, 'unit file line 4: "<<<<<<" has no "=" (expected Name=Value)');
});

test('line numbers count lines consumed by continuations', () => {
  const err = parseError('[Service]\nExecStart=a \\\n  b \\\n  c\nBroken\n');
  assert.equal(err.line, 5);
});

// --- values ---

test('values are trimmed; empty values are allowed', () => {
  assert.deepEqual(opts('[Unit]\nDescription= words here \nFoo=\nBar=   \n'), [
    o('Unit', 'Description', 'words here'),
    o('Unit', 'Foo', ''),
    o('Unit', 'Bar', ''),
  ]);
});

test('duplicate keys are kept as separate options in order', () => {
  assert.deepEqual(opts('[Unit]\nDescription=Foo\nAfter=a.service\nDescription=Bar\n'), [
    o('Unit', 'Description', 'Foo'),
    o('Unit', 'After', 'a.service'),
    o('Unit', 'Description', 'Bar'),
  ]);
});

test('multiple quoted values are not special-cased outside [X-Fleet]', () => {
  assert.deepEqual(opts('[Service]\nEnvironment= "FOO=BAR" "BAZ=QUX"\n'), [o('Service', 'Environment', '"FOO=BAR" "BAZ=QUX"')]);
});

test('continuation keeps the backslash, adds "\\n" and the next line verbatim', () => {
  assert.deepEqual(opts('[Service]\nExecStart=echo \\\n  "pi\\\n  ng"\n'), [o('Service', 'ExecStart', 'echo \\\n  "pi\\\n  ng"')]);
});

test('comment-looking lines inside a continuation are part of the value', () => {
  assert.deepEqual(opts('[Unit]\nDescription=Bar\\\n# comment alpha\n\nDescription=Bar\\\n# comment bravo \\\nBaz\n'), [
    o('Unit', 'Description', 'Bar\\\n# comment alpha'),
    o('Unit', 'Description', 'Bar\\\n# comment bravo \\\nBaz'),
  ]);
});

test('a blank line ends a continuation and one trailing "\\n" is kept', () => {
  assert.deepEqual(opts('[Unit]\nDescription= words here \\\n  \nAfter=x\n'), [
    o('Unit', 'Description', 'words here \\\n'),
    o('Unit', 'After', 'x'),
  ]);
});

test('a continuation at end of input keeps the backslash', () => {
  assert.deepEqual(opts('[Unit]\nDescription=Bar \\'), [o('Unit', 'Description', 'Bar \\')]);
});

test('a backslash not at end of line is not a continuation', () => {
  const line = '/bin/bash -c "while true; do echo \\"ping\\"; sleep 1; done"';
  assert.deepEqual(opts(`[Service]\nExecStart=${line}\nType=simple\n`), [o('Service', 'ExecStart', line), o('Service', 'Type', 'simple')]);
});

test('trimming uses Go whitespace: NBSP trimmed, BOM (U+FEFF) kept', () => {
  assert.deepEqual(opts('[Unit]\nA=\u00a0x\u00a0\nB=\ufeffy\n'), [o('Unit', 'A', 'x'), o('Unit', 'B', '\ufeffy')]);
});

test('UTF-8 is preserved', () => {
  assert.deepEqual(opts('[©]\nµ☃=ÇôrèÕ$'), [o('©', 'µ☃', 'ÇôrèÕ$')]);
});

test('\\r\\n line endings are tolerated and hash like \\n', () => {
  const crlf = '[Unit]\r\nDescription=Foo\r\n\r\n[Service]\r\nExecStart=/bin/true\r\n';
  assert.deepEqual(opts(crlf), [o('Unit', 'Description', 'Foo'), o('Service', 'ExecStart', '/bin/true')]);
  assert.equal(UnitFile.parse(crlf).hash(), UnitFile.parse(crlf.replaceAll('\r\n', '\n')).hash());
});

test('\\r\\n does not break continuations or line numbers', () => {
  assert.deepEqual(opts('[Service]\r\nExecStart=a \\\r\n  b\r\n'), [o('Service', 'ExecStart', 'a \\\n  b')]);
  assert.equal(parseError('[Service]\r\nA=b\r\nBroken\r\n').message, 'unit file line 3: "Broken" has no "=" (expected Name=Value)');
});

// --- line length ---

test('lines of 2048 bytes or more are rejected with their line number', () => {
  const ok = `[Service]\nExecStart=${'x'.repeat(2047 - 'ExecStart='.length)}\n`;
  assert.equal(UnitFile.parse(ok).options.length, 1);
  const err = parseError(`[Service]\nA=b\nExecStart=${'x'.repeat(2048 - 'ExecStart='.length)}\n`);
  assert.equal(err.line, 3);
  assert.equal(err.message, 'unit file line 3: line too long (max 2048 bytes): 2048 bytes without a line break; split it with a trailing "\\" continuation');
});

test('line length is counted in UTF-8 bytes', () => {
  const err = parseError(`[Service]\nA=${'€'.repeat(700)}\n`);
  assert.match(err.message, /^unit file line 2: line too long \(max 2048 bytes\): 2102 bytes/);
});

test('long values split with continuations are fine', () => {
  const part = 'y'.repeat(1500);
  const u = UnitFile.parse(`[Service]\nExecStart=${part} \\\n${part}\n`);
  assert.equal(u.options[0]!.value, `${part} \\\n${part}`);
});

test('lexing is linear with LF line ends too (each option searched the rest of the file for "\\r")', async () => {
  const lex = new URL('./support/lex-generated.js', import.meta.url);
  // 10^6 options: about a second; the quadratic lexer needed minutes.
  assert.equal(await callWithDeadline(lex, 'lexGenerated', [1_000_000, '\n']), 1_000_000);
  assert.equal(await callWithDeadline(lex, 'lexGenerated', [1_000_000, '\r\n']), 1_000_000);
});
