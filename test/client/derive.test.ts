/** Current-state derivation and the small pure helpers of the client. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentInfo, deriveSummary } from '../../src/client/derive.js';
import { machineFullLegend, machineIdLegend } from '../../src/client/legend.js';
import { blockAttempts } from '../../src/client/operations/index.js';
import { unitArg, unitNames } from '../../src/client/operations/unit-args.js';
import { budgetFor } from '../../src/client/operations/waiter.js';
import type { UnitRecord } from '../../src/registry/records.js';

const PLAIN = '[Unit]\nDescription=Plain\n\n[Service]\nExecStart=/bin/true\n';
const GLOBAL = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=yes\n';
const rec = (desired: UnitRecord['desired'] = 'launched'): UnitRecord => ({ name: 'a.service', hash: 'h1', desired });

describe('deriveSummary', () => {
  it('no assignment: inactive, no machine', () => {
    const s = deriveSummary(rec(), contentInfo(PLAIN, 'a.service'), undefined, []);
    assert.equal(s.currentState, 'inactive');
    assert.equal(s.machineId, undefined);
    assert.equal(s.description, 'Plain');
    assert.equal(s.global, false);
  });

  it('assigned but nothing published yet: inactive on that machine', () => {
    const s = deriveSummary(rec(), contentInfo(PLAIN, 'a.service'), { unit: 'a.service', hash: 'h1', desired: 'launched', machineId: 'm1' }, []);
    assert.deepEqual([s.currentState, s.machineId], ['inactive', 'm1']);
  });

  it('the assigned machine\'s applied state is the current state', () => {
    const s = deriveSummary(
      rec(),
      contentInfo(PLAIN, 'a.service'),
      { unit: 'a.service', hash: 'h1', desired: 'launched', machineId: 'm1' },
      [
        { unit: 'a.service', machineId: 'm0', hash: 'h1', load: 'loaded', active: 'active', sub: 'running', applied: 'launched' },
        { unit: 'a.service', machineId: 'm1', hash: 'h1', load: 'loaded', active: 'inactive', sub: 'dead', applied: 'loaded' },
      ],
    );
    assert.deepEqual([s.currentState, s.machineId], ['loaded', 'm1']);
  });

  it('a state for other content (the version before a replace) does not count', () => {
    const s = deriveSummary(rec(), contentInfo(PLAIN, 'a.service'), { unit: 'a.service', hash: 'h1', desired: 'launched', machineId: 'm1' }, [
      { unit: 'a.service', machineId: 'm1', hash: 'old', load: 'loaded', active: 'active', sub: 'running', applied: 'launched' },
    ]);
    assert.equal(s.currentState, 'inactive');
  });

  it('global units: current = desired, never a machine', () => {
    const s = deriveSummary(rec('loaded'), contentInfo(GLOBAL, 'a.service'), { unit: 'a.service', hash: 'h1', desired: 'launched', machineId: 'm1' }, []);
    assert.deepEqual([s.global, s.currentState, s.machineId], [true, 'loaded', undefined]);
  });

  it('missing or unparsable content counts as a plain unit', () => {
    assert.equal(contentInfo(undefined, 'a.service').global, false);
    assert.equal(contentInfo('[Service\nGlobal=true', 'a.service').global, false);
  });
});

describe('helpers', () => {
  it('machine legends', () => {
    assert.equal(machineIdLegend('113f16a7abcdef', false), '113f16a7...');
    assert.equal(machineIdLegend('113f16a7abcdef', true), '113f16a7abcdef');
    assert.equal(machineFullLegend({ id: '113f16a7abcdef', publicIP: '127.0.1.1' }, false), '113f16a7.../127.0.1.1');
    assert.equal(machineFullLegend({ id: '113f16a7abcdef', publicIP: '' }, true), '113f16a7abcdef');
  });

  it('unit arguments: fleet mangling of names and paths', () => {
    assert.deepEqual(unitArg('hello'), { arg: 'hello', path: 'hello.service', name: 'hello.service' });
    assert.deepEqual(unitArg('dir/sub/web@1'), { arg: 'dir/sub/web@1', path: 'dir/sub/web@1.service', name: 'web@1.service' });
    assert.deepEqual(unitArg('x.socket').name, 'x.socket');
    assert.deepEqual(unitArg('x.target').name, 'x.target.service');
    assert.deepEqual(unitNames(['a', 'a.service', 'b']), ['a.service', 'b.service']);
  });

  it('block attempts and budgets', () => {
    assert.equal(blockAttempts({}), 0);
    assert.equal(blockAttempts({ noBlock: true, blockAttempts: 5 }), -1);
    assert.equal(blockAttempts({ blockAttempts: 3 }), 3);
    assert.equal(budgetFor(0, 2000), undefined);
    assert.equal(budgetFor(3, 2000), 6000);
  });
});
