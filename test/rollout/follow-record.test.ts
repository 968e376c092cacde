/** Following a rollout from its record: events per phase change, the report, the end conditions (pure; reads scripted). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutRecord } from '../../src/registry/records.js';
import { RolloutLostError, followRecord, recordEvents, recordReport } from '../../src/rollout/follow-record.js';
import type { RolloutEvent } from '../../src/rollout/rollout.js';

const H = 'a'.repeat(40);
const P = 'b'.repeat(40);
const C = 'c'.repeat(40);
type Phase = RolloutRecord['units'][number]['phase'];
const rec = (phases: Record<string, Phase>, state: RolloutRecord['state'] = 'running', commit = C): RolloutRecord => ({
  source: 's', commit, state, opts: { maxParallel: 1, minHealthyMs: 0, healthyDeadlineMs: 1000, autoRevert: true },
  units: Object.entries(phases).map(([name, phase]) => ({ name, hash: H, previousHash: P, phase, ...(phase === 'failed' || phase === 'reverted' ? { reason: 'failed to start' } : {}) })),
});

describe('recordEvents / recordReport', () => {
  it('one event per phase change, none for pending or unchanged units', () => {
    assert.deepEqual(recordEvents(undefined, rec({ 'a.service': 'inflight', 'b.service': 'pending' })).map((e) => [e.unit, e.phase]), [['a.service', 'waiting']]);
    const prev = rec({ 'a.service': 'inflight', 'b.service': 'pending' });
    assert.deepEqual(recordEvents(prev, rec({ 'a.service': 'done', 'b.service': 'inflight' })).map((e) => [e.unit, e.phase]), [['a.service', 'healthy'], ['b.service', 'waiting']]);
    assert.deepEqual(recordEvents(prev, prev), []);
    const reverted = recordEvents(prev, rec({ 'a.service': 'reverted', 'b.service': 'pending' }, 'failed'));
    assert.deepEqual(reverted, [{ unit: 'a.service', phase: 'failed', detail: 'failed to start; previous content put back' }]);
  });
  it('the report: done healthy, failed and reverted failed, the rest not started', () => {
    assert.deepEqual(recordReport(rec({ 'a.service': 'done', 'b.service': 'reverted', 'c.service': 'pending' }, 'failed')), {
      healthy: ['a.service'], failed: [{ unit: 'b.service', reason: 'failed to start; previous content put back' }], notStarted: ['c.service'],
      stopped: 'the rollout stopped on an unhealthy unit',
    });
    const stopped = { ...rec({ 'a.service': 'failed' }, 'failed'), error: 'a.service: failed to start; rollout stopped' };
    assert.equal(recordReport(stopped).stopped, 'a.service: failed to start; rollout stopped');
    assert.equal(recordReport(rec({ 'a.service': 'done' }, 'done')).stopped, undefined);
  });
  it('a global unit rolling host by host: news each time a host moves on', () => {
    const M1 = '1'.repeat(32);
    const M2 = '2'.repeat(32);
    const at = (p1: Phase, p2: Phase): RolloutRecord => {
      const r = rec({ 'g.service': 'inflight' });
      return { ...r, units: r.units.map((u) => ({ ...u, hosts: [{ machineId: M1, phase: p1 }, { machineId: M2, phase: p2 }] })) };
    };
    assert.deepEqual(recordEvents(undefined, at('pending', 'pending')).map((e) => e.detail), ['host by host: 0/2 hosts done']);
    assert.deepEqual(recordEvents(at('pending', 'pending'), at('inflight', 'pending')).map((e) => e.detail), ['host by host: 0/2 hosts done, replacing on 111111111111']);
    assert.deepEqual(recordEvents(at('inflight', 'pending'), at('done', 'inflight')).map((e) => e.detail), ['host by host: 1/2 hosts done, replacing on 222222222222']);
    assert.deepEqual(recordEvents(at('done', 'inflight'), at('done', 'inflight')), []);
  });
  it('a unit in flight that turns healthy is news once; holding it is not', () => {
    const inflight = rec({ 'a.service': 'inflight' });
    const healthy: RolloutRecord = { ...inflight, opts: { ...inflight.opts, minHealthyMs: 2000 }, units: inflight.units.map((u) => ({ ...u, healthySince: 5 })) };
    assert.deepEqual(recordEvents(inflight, healthy), [{ unit: 'a.service', phase: 'waiting', detail: 'replaced; healthy, must stay so for 2s' }]);
    assert.deepEqual(recordEvents(healthy, healthy), []);
  });
});

describe('followRecord', () => {
  const script = (...records: Array<RolloutRecord | undefined>) => {
    let i = 0;
    return () => Promise.resolve(records[Math.min(i++, records.length - 1)]);
  };
  it('reads until the rollout ends, reporting each change once', async () => {
    const events: RolloutEvent[] = [];
    let t = 0;
    const r = await followRecord(script(rec({ 'a.service': 'inflight', 'b.service': 'pending' }), rec({ 'a.service': 'done', 'b.service': 'inflight' }), rec({ 'a.service': 'done', 'b.service': 'done' }, 'done')), (e) => events.push(e), {
      commit: C, pollMs: 10, timeoutMs: 10_000, now: () => t, sleep: async (ms) => void (t += ms),
    });
    assert.deepEqual(r, { healthy: ['a.service', 'b.service'], failed: [], notStarted: [] });
    assert.deepEqual(events.map((e) => `${e.unit}:${e.phase}`), ['a.service:waiting', 'a.service:healthy', 'b.service:waiting', 'b.service:healthy']);
    assert.equal(t, 20);
  });
  it('stops at the timeout with what is known; the rollout goes on', async () => {
    let t = 0;
    const r = await followRecord(script(rec({ 'a.service': 'inflight' })), () => undefined, { commit: C, pollMs: 100, timeoutMs: 250, now: () => t, sleep: async (ms) => void (t += ms) });
    assert.deepEqual(r.notStarted, ['a.service']);
    assert.equal(t, 250);
  });
  it('a removed or superseded record ends the following with one line', async () => {
    const opts = { commit: C, pollMs: 1, timeoutMs: 100, sleep: async () => undefined };
    await assert.rejects(followRecord(script(undefined), () => undefined, opts), RolloutLostError);
    await assert.rejects(followRecord(script(rec({ 'a.service': 'inflight' }, 'running', 'd'.repeat(40))), () => undefined, opts), /a newer sync \(commit dddddddddddd\) replaced this rollout/);
  });
});
