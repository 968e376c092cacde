/** Reading Condition*= and Assert*= lines the way systemd's unit loader does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitFile, conditionKey, parseConditions, simplifyConditionPath } from '../../src/unit/index.js';

function parse(unitSection: string) {
  return parseConditions(UnitFile.parse(`[Unit]\n${unitSection}\n\n[Service]\nExecStart=/bin/true\n`));
}

test('Condition and Assert lines land in separate lists, in file order, values as written', () => {
  const p = parse('Description=x\nConditionPathExists=/dev/kvm\nAssertHost=web%i\nConditionMemory=>=1G');
  assert.deepEqual(p.conditions, [
    { kind: 'Condition', check: 'PathExists', trigger: false, negate: false, parameter: '/dev/kvm', line: 'ConditionPathExists=/dev/kvm' },
    { kind: 'Condition', check: 'Memory', trigger: false, negate: false, parameter: '>=1G', line: 'ConditionMemory=>=1G' },
  ]);
  assert.deepEqual(p.asserts, [
    { kind: 'Assert', check: 'Host', trigger: false, negate: false, parameter: 'web%i', line: 'AssertHost=web%i' },
  ]);
});

test('| then ! prefixes: triggering and negated; whitespace after either is skipped; ! before | is not a trigger', () => {
  const [a, b, c, d] = parse('ConditionPathExists=|!/a\nConditionPathExists=| ! /b\nConditionPathExists=!|/c\nConditionHost=!web').conditions;
  assert.deepEqual([a?.trigger, a?.negate, a?.parameter], [true, true, '/a']);
  assert.deepEqual([b?.trigger, b?.negate, b?.parameter], [true, true, '/b']);
  assert.deepEqual([c?.trigger, c?.negate, c?.parameter], [false, true, '|/c']);
  assert.deepEqual([d?.trigger, d?.negate, d?.parameter], [false, true, 'web']);
});

test('an empty Condition resets every condition before it (any kind), but not the asserts; and vice versa', () => {
  const p = parse('ConditionPathExists=/a\nConditionHost=h\nAssertPathExists=/x\nConditionMemory=\nConditionCPUs=2\nAssertHost=\nAssertCPUs=4');
  assert.deepEqual(p.conditions.map((c) => c.line), ['ConditionCPUs=2']);
  assert.deepEqual(p.asserts.map((c) => c.line), ['AssertCPUs=4']);
});

test('only [Unit] counts; keys systemd does not know are ignored, even empty ones', () => {
  const file = UnitFile.parse('[Unit]\nConditionPathExists=/a\nConditionFoo=\nConditionPathexists=\n\n[Service]\nConditionPathExists=/b\n\n[X-Fleet]\nConditionHost=x\n');
  assert.deepEqual(parseConditions(file).conditions.map((c) => c.parameter), ['/a']);
});

test('conditionKey knows systemd check names and nothing else', () => {
  assert.deepEqual(conditionKey('ConditionKernelCommandLine'), { kind: 'Condition', check: 'KernelCommandLine' });
  assert.deepEqual(conditionKey('AssertEnvironment'), { kind: 'Assert', check: 'Environment' });
  assert.deepEqual(conditionKey('ConditionNeedsUpdate'), { kind: 'Condition', check: 'NeedsUpdate' });
  assert.equal(conditionKey('Condition'), undefined);
  assert.equal(conditionKey('ConditionMachineID'), undefined);
  assert.equal(conditionKey('X-ConditionMachineMetadata'), undefined);
});

test('a unit without conditions has empty lists', () => {
  assert.deepEqual(parseConditions(UnitFile.parse('[Service]\nExecStart=/bin/true\n')), { conditions: [], asserts: [] });
});

test('condition paths are simplified as systemd does; relative ones are rejected', () => {
  assert.equal(simplifyConditionPath('/dev//kvm/'), '/dev/kvm');
  assert.equal(simplifyConditionPath('/a/./b'), '/a/b');
  assert.equal(simplifyConditionPath('/a/../b'), '/a/../b');
  assert.equal(simplifyConditionPath('/'), '/');
  assert.equal(simplifyConditionPath('dev/kvm'), undefined);
  assert.equal(simplifyConditionPath(''), undefined);
});
