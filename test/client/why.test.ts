/**
 * Placement problems on the client side: which engine reports count, how
 * they read (why, summaries), and how blocking commands surface them.
 * The in-memory client's reportUnplaced stands in for the engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentInfo, deriveSummary } from '../../src/client/derive.js';
import { explainUnit, explanationLines, loadUnits, operationContext, startUnits } from '../../src/client/operations/index.js';
import { reasonLines, summarizeReasons } from '../../src/client/reasons.js';
import type { UnplacedRecord } from '../../src/registry/records.js';
import { waitFor } from '../../src/util/deadline.js';
import { MemoryClient, MemorySink } from './support/memory-client.js';

const HELLO = '[Service]\nExecStart=/bin/sleep 100\n';
const GLOBAL = '[Service]\nExecStart=/bin/sleep 100\n\n[X-Fleet]\nGlobal=true\n';
const M1 = '113f16a7aaaaaaaaaaaaaaaaaaaaaaaa';
const M2 = '2b9e0c41bbbbbbbbbbbbbbbbbbbbbbbb';
const M3 = '3c000000cccccccccccccccccccccccc';
const AT = '2024-05-01T10:00:00.000Z';

function setup(attemptMs = 2000) {
  const client = new MemoryClient();
  client.machines = [
    { id: M1, publicIP: '10.0.0.1', metadata: {}, sshPort: 22, systemdScope: 'system' },
    { id: M2, publicIP: '', metadata: {}, sshPort: 22, systemdScope: 'system' },
  ];
  const sink = new MemorySink();
  const ctx = operationContext(client, sink, { attemptMs, recheckMs: 10_000 });
  return { client, sink, ctx };
}

describe('which unplaced reports count', () => {
  const rec = { name: 'a.service', hash: 'h1', desired: 'launched' as const };
  const report: UnplacedRecord = { unit: 'a.service', hash: 'h1', reasons: { [M1]: 'conflicts with b.service' }, at: AT };
  const info = contentInfo(HELLO, 'a.service');

  it('a report for the current content of a unit that wants a machine and has none', () => {
    assert.deepEqual(deriveSummary(rec, info, undefined, [], report).unplaced, { reasons: report.reasons, at: AT });
  });

  it('not once placed, not for older content, not for an inactive unit', () => {
    const placed = { unit: 'a.service', hash: 'h1', desired: 'launched' as const, machineId: M2 };
    assert.equal(deriveSummary(rec, info, placed, [], report).unplaced, undefined);
    assert.equal(deriveSummary(rec, info, undefined, [], { ...report, hash: 'h0' }).unplaced, undefined);
    assert.equal(deriveSummary({ ...rec, desired: 'inactive' }, info, undefined, [], report).unplaced, undefined);
  });

  it('global units: only while no machine runs them', () => {
    const g = contentInfo(GLOBAL, 'a.service');
    assert.ok(deriveSummary(rec, g, undefined, [], report).unplaced);
    const state = { unit: 'a.service', machineId: M2, hash: 'h1', load: 'loaded', active: 'active', sub: 'running', applied: 'launched' as const };
    assert.equal(deriveSummary(rec, g, undefined, [state], report).unplaced, undefined);
  });
});

describe('reasons', () => {
  it('one line per machine with its legend; the no-machine entry first', () => {
    const machines = new Map([[M1, { id: M1, publicIP: '10.0.0.1', metadata: {}, sshPort: 22, systemdScope: 'system' as const }]]);
    const lines = reasonLines({ reasons: { [M2]: 'b', [M1]: 'a', '*': '' }, at: AT }, machines, false);
    assert.deepEqual(lines, [
      { reason: 'no machine is live' },
      { machineId: M1, legend: '113f16a7.../10.0.0.1', reason: 'a' },
      { machineId: M2, legend: '2b9e0c41...', reason: 'b' },
    ]);
  });

  it('summaries group machines by reason and count them past three', () => {
    const l = (legend: string, reason: string) => ({ machineId: legend, legend, reason });
    assert.equal(summarizeReasons([l('a...', 'x'), l('b...', 'y'), l('c...', 'x')]), 'a..., c...: x; b...: y');
    assert.equal(summarizeReasons(['a', 'b', 'c', 'd'].map((m) => l(m, 'x'))), '4 machines: x');
    assert.equal(summarizeReasons([{ reason: 'no machine is live' }]), 'no machine is live');
  });
});

describe('explainUnit', () => {
  it('unplaced: one line per machine, unknown machines without an IP', async () => {
    const { client, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    client.reportUnplaced('a.service', { [M1]: 'conflicts with b.service', [M3]: 'metadata region=eu not matched' }, AT);
    const e = await explainUnit(ctx, ['a']);
    assert.equal(e.status, 'unplaced');
    assert.deepEqual(explanationLines(e), [
      `Unit a.service cannot be placed (desired launched); reasons from the engine's round at ${AT}:`,
      '  113f16a7.../10.0.0.1: conflicts with b.service',
      '  3c000000...: metadata region=eu not matched',
    ]);
    const full = await explainUnit(ctx, ['a.service'], { full: true });
    assert.equal(explanationLines(full)[1], `  ${M1}/10.0.0.1: conflicts with b.service`);
  });

  it('placed, inactive, waiting, global, missing', async () => {
    const { client, ctx } = setup();
    client.seed('p.service', HELLO, 'launched');
    client.assign('p.service', M1, 'launched');
    client.publish('p.service', M1, { applied: 'launched', active: 'active', sub: 'running' });
    assert.deepEqual(explanationLines(await explainUnit(ctx, ['p'])), [
      'Unit p.service is placed on 113f16a7.../10.0.0.1 (desired launched, current launched, systemd loaded/active/running)',
    ]);
    client.seed('f.service', HELLO, 'launched');
    client.assign('f.service', M1, 'launched');
    client.publish('f.service', M1, { applied: 'launched', load: 'not-found', active: 'inactive', sub: 'dead', failure: 'its content is missing from the store' });
    const failed = await explainUnit(ctx, ['f']);
    assert.deepEqual(explanationLines(failed), [
      'Unit f.service is placed on 113f16a7.../10.0.0.1 but failed there: its content is missing from the store (desired launched, current launched, systemd not-found/inactive/dead)',
    ]);
    assert.equal(failed.status === 'placed' ? failed.machines[0]?.failure : undefined, 'its content is missing from the store');
    client.seed('i.service', HELLO);
    assert.deepEqual(explanationLines(await explainUnit(ctx, ['i'])), [
      'Unit i.service is inactive: it is not scheduled anywhere (load or start it to place it)',
    ]);
    client.seed('w.service', HELLO, 'loaded');
    assert.deepEqual(explanationLines(await explainUnit(ctx, ['w'])), [
      'Unit w.service is waiting for a machine (desired loaded); the engine has not reported a problem placing it',
    ]);
    client.seed('g.service', GLOBAL, 'launched');
    for (const m of [M1, M2]) client.publish('g.service', m, { applied: 'launched', active: 'active', sub: 'running' });
    assert.deepEqual(explanationLines(await explainUnit(ctx, ['g'])), [
      'Global unit g.service (desired launched) is on 2 machines:',
      '  113f16a7.../10.0.0.1: systemd loaded/active/running',
      '  2b9e0c41...: systemd loaded/active/running',
    ]);
    await assert.rejects(explainUnit(ctx, ['nope']), { message: 'Unit nope.service not found' });
    await assert.rejects(explainUnit(ctx, []), { message: 'One unit must be provided' });
  });
});

describe('blocking on a unit no machine takes', () => {
  it('--block-attempts fails with the reasons in the timeout message', async () => {
    const { client, ctx } = setup(30);
    client.seed('a.service', HELLO);
    client.onDesired = (name) => setTimeout(() => client.reportUnplaced(name, { [M1]: 'conflicts with b.service', [M2]: 'conflicts with b.service' }, AT), 5);
    await assert.rejects(loadUnits(ctx, ['a'], { blockAttempts: 2 }), {
      message:
        'Error waiting for unit states, exit status: timed out waiting for unit a.service to report state loaded: ' +
        'no machine can take it (113f16a7.../10.0.0.1, 2b9e0c41...: conflicts with b.service)',
    });
  });

  it('waiting without limit prints the reason once, then goes on waiting until placed', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO);
    client.onDesired = (name) =>
      setTimeout(() => {
        client.reportUnplaced(name, { [M1]: 'conflicts with b.service' }, AT);
        client.reportUnplaced(name, { [M1]: 'conflicts with b.service' }, AT);
      }, 5);
    const done = startUnits(ctx, ['a']);
    // The engine places the unit once the notice is out.
    await waitFor('the notice', () => (sink.errLines.length > 0 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    client.unplaced.delete('a.service');
    client.assign('a.service', M1, 'launched');
    client.publish('a.service', M1, { applied: 'launched', active: 'active', sub: 'running' });
    await done;
    assert.deepEqual(sink.errLines, [
      'Unit a.service cannot be placed yet (113f16a7.../10.0.0.1: conflicts with b.service); still waiting, see flotctl why a.service',
    ]);
    assert.deepEqual(sink.outLines, ['Unit a.service launched on 113f16a7.../10.0.0.1']);
  });
});
