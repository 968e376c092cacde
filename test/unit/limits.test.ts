/**
 * The limits of src/unit/limits.ts as flotctl's validation applies them: a
 * unit at a limit is accepted, one past it refused with one line naming the
 * limit and the fix. (The engine and agent side: test/engine, test/agent.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNIT_LIMITS, UnitFile, validateUnit } from '../../src/unit/index.js';

const unit = (xfleet: string[], extra = ''): UnitFile =>
  UnitFile.parse(['[Unit]', 'Description=x', extra, '[Service]', 'ExecStart=/bin/true', '[X-Fleet]', ...xfleet].join('\n'));

function refusal(file: UnitFile, name = 'app.service'): string {
  try {
    validateUnit(file, name);
  } catch (err) {
    const message = (err as Error).message;
    assert.equal(message.includes('\n'), false, 'one line');
    return message;
  }
  return 'accepted';
}

test('values per [X-Fleet] requirement: 64 across all lines of the key, aliases counted together', () => {
  const patterns = (n: number, prefix = 'c'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}.service`);
  assert.equal(refusal(unit([`Conflicts=${patterns(64).join(' ')}`])), 'accepted');
  assert.equal(
    refusal(unit([`Conflicts=${patterns(40).join(' ')}`, `X-Conflicts=${patterns(25, 'x').join(' ')}`])),
    '[X-Fleet] Conflicts has 65 values; the limit is 64: use a glob that covers several units, or split the unit',
  );
  assert.equal(refusal(unit(patterns(65).map((p) => `MachineOf=${p}`))), '[X-Fleet] MachineOf has 65 values; the limit is 64: use a glob that covers several units, or split the unit');
  assert.equal(refusal(unit(patterns(65).map((p) => `Replaces=${p}`))), '[X-Fleet] Replaces has 65 values; the limit is 64: use a glob that covers several units, or split the unit');
  const metadata = Array.from({ length: 65 }, (_, i) => `"k${i}=v"`).join(' ');
  assert.match(refusal(unit([`MachineMetadata=${metadata}`])), /^\[X-Fleet\] MachineMetadata has 65 values; the limit is 64/);
  // Repeats of one value are one value.
  assert.equal(refusal(unit(Array.from({ length: 100 }, () => 'Conflicts=db.service'))), 'accepted');
});

test('globs among Conflicts/Replaces values: 16 (plain names are looked up, not matched)', () => {
  const globs = (n: number): string[] => Array.from({ length: n }, (_, i) => `Conflicts=g${i}-*.service`);
  assert.equal(refusal(unit([...globs(16), ...Array.from({ length: 48 }, (_, i) => `Conflicts=n${i}.service`)])), 'accepted');
  assert.equal(refusal(unit(globs(17))), '[X-Fleet] Conflicts has 17 globs; the limit is 16: merge them into fewer globs, or name the units');
});

test('a Conflicts/Replaces glob: 64 characters (a plain name may be as long as any value)', () => {
  const glob = (n: number): string => `${'a'.repeat(n - '*.service'.length)}*.service`;
  assert.equal(refusal(unit([`Conflicts=${glob(64)}`])), 'accepted');
  assert.equal(refusal(unit([`Replaces=${glob(64)}`])), 'accepted');
  assert.equal(refusal(unit([`Conflicts=${glob(65)}`])), `[X-Fleet] Conflicts glob "${'a'.repeat(40)}…" is 65 characters; the limit is 64: shorten it`);
  assert.equal(refusal(unit([`Replaces=${'b'.repeat(100)}?`])), `[X-Fleet] Replaces glob "${'b'.repeat(40)}…" is 101 characters; the limit is 64: shorten it`);
  // %p is the unit's prefix: a glob that grows past the limit once expanded.
  assert.match(refusal(unit(['Conflicts=%p@*.service']), `${'p'.repeat(60)}@1.service`), /^\[X-Fleet\] Conflicts glob "p+…" is 70 characters; the limit is 64: shorten it$/);
});

test('one [X-Fleet] value: 256 characters, after specifiers are expanded for the unit name', () => {
  const at = `${'a'.repeat(256 - '.service'.length)}.service`;
  assert.equal(refusal(unit([`Replaces=${at}`])), 'accepted');
  assert.equal(
    refusal(unit([`Replaces=a${at}`])),
    `[X-Fleet] Replaces value "a${'a'.repeat(39)}…" is 257 characters; the limit is 256: shorten it`,
  );
  // %n is the unit's own name: 4 x 70 characters once expanded.
  const name = `${'w'.repeat(62)}.service`;
  assert.match(refusal(unit(['Conflicts=%n%n%n%n']), name), /^\[X-Fleet\] Conflicts value "w+…" is 280 characters; the limit is 256: shorten it$/);
  assert.match(refusal(unit([`MachineID=${'f'.repeat(300)}`])), /^\[X-Fleet\] MachineID value "f+…" is 300 characters; the limit is 256/);
});

test('the issue\'s oversized values are refused at once (a 200 KB MachineOf took 102 s to validate)', () => {
  const long = (n: number): string => Array.from({ length: Math.ceil(n / 1000) }, () => 'x'.repeat(1000)).join('\\\n');
  assert.match(refusal(unit([`MachineOf=p${long(200 * 1024)}.service`, 'Conflicts=*y'])), /^\[X-Fleet\] MachineOf value "p.*" is \d+ characters; the limit is 256: shorten it$/);
  assert.match(refusal(unit([`Replaces=a?${long(38 * 1024)}`])), /^\[X-Fleet\] Replaces glob .* the limit is 64: shorten it$/);
});

test('Condition and Assert lines: 64 in [Unit]; ConditionHost= 256 characters, other values 1024', () => {
  const lines = (n: number): string => Array.from({ length: n }, (_, i) => `ConditionPathExists=|/etc/x${i}`).join('\n');
  assert.equal(refusal(unit([], lines(64))), 'accepted');
  assert.equal(refusal(unit([], `${lines(32)}\nAssertPathExists=/etc/y\n${lines(32)}`)), '[Unit] has 65 Condition/Assert lines; the limit is 64: move the checks into an ExecCondition= script');
  assert.equal(refusal(unit([], `ConditionHost=${'*'.repeat(256)}`)), 'accepted');
  assert.equal(refusal(unit([], `AssertHost=${'*'.repeat(257)}`)), 'AssertHost= is 257 characters; the limit is 256: shorten it');
  assert.equal(refusal(unit([], `ConditionPathExists=/${'d/'.repeat(511)}x`)), 'accepted');
  const path = `/${'d/'.repeat(500)}\\\n${'e/'.repeat(20)}`;
  assert.equal(refusal(unit([], `ConditionPathExists=${path}`)), `ConditionPathExists= is ${1 + 1000 + 2 + 40} characters; the limit is 1024: shorten it`);
  // Lines that are not systemd conditions are not counted.
  assert.equal(refusal(unit([], Array.from({ length: 100 }, (_, i) => `X-ConditionFoo${i}=1`).join('\n'))), 'accepted');
});

test('options per file: 4096', () => {
  const env = (n: number): string => Array.from({ length: n }, (_, i) => `Environment=V${i}=1`).join('\n');
  const file = (n: number): UnitFile => UnitFile.parse(`[Service]\nExecStart=/bin/true\n${env(n)}\n`);
  assert.equal(refusal(file(UNIT_LIMITS.options - 1)), 'accepted');
  assert.equal(refusal(file(UNIT_LIMITS.options)), 'unit file has 4097 options; the limit is 4096: split it into several units');
});

test('stored size: 256 KiB', () => {
  const lines = (kib: number): string => Array.from({ length: kib * 8 }, (_, i) => `Environment=V${String(i).padStart(6, '0')}=${'v'.repeat(107)}`).join('\n');
  const file = (text: string): UnitFile => UnitFile.parse(`[Service]\n${text}\n`);
  // 128-byte lines: 8 per KiB, so 2000 options stay under the option limit.
  assert.equal(refusal(file(lines(200))), 'accepted');
  assert.match(refusal(file(lines(257))), /^unit file is 2\d\d KiB; the limit is 256 KiB: move scripts and data into files the unit runs or reads$/);
});
