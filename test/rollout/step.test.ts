/** The pure rollout step: pacing, the health gate, deadline, auto-revert. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Health } from '../../src/rollout/health.js';
import { FAILED_SETTLE_MS, combineHealth, stepRollout } from '../../src/rollout/step.js';
import type { RolloutRecord, UnitProgress } from '../../src/rollout/step.js';

const H = 'a'.repeat(64);
const P = 'b'.repeat(64);
const unit = (name: string, extra: Partial<UnitProgress> = {}): UnitProgress => ({ name, hash: H, previousHash: P, phase: 'pending', ...extra });
const rec = (units: UnitProgress[], maxParallel = 1, autoRevert = false): RolloutRecord => ({
  source: 's', commit: 'c', state: 'running', units,
  opts: { maxParallel, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert },
});
const obs = (m: Record<string, Health>) => (u: string): Health => m[u] ?? 'pending';

describe('stepRollout', () => {
  const table: Array<{ name: string; rec: RolloutRecord; health: Record<string, Health>; now: number; replace: string[]; revert: string[]; state: string; wakeAt?: number }> = [
    { name: 'starts max-parallel (1) first', rec: rec([unit('a'), unit('b')]), health: {}, now: 0, replace: ['a'], revert: [], state: 'running', wakeAt: 300_000 },
    { name: 'starts max-parallel (2) first', rec: rec([unit('a'), unit('b'), unit('c')], 2), health: {}, now: 0, replace: ['a', 'b'], revert: [], state: 'running', wakeAt: 300_000 },
    { name: 'healthy but not for min-healthy-time: waits, no next', rec: rec([unit('a', { phase: 'inflight', startedAt: 0 }), unit('b')]), health: { a: 'healthy' }, now: 1000, replace: [], revert: [], state: 'running', wakeAt: 11_000 },
    { name: 'healthy long enough: next goes', rec: rec([unit('a', { phase: 'inflight', startedAt: 0, healthySince: 1000 }), unit('b')]), health: { a: 'healthy' }, now: 11_000, replace: ['b'], revert: [], state: 'running', wakeAt: 311_000 },
    { name: 'health lost resets the gate', rec: rec([unit('a', { phase: 'inflight', startedAt: 0, healthySince: 1000 }), unit('b')]), health: { a: 'pending' }, now: 11_000, replace: [], revert: [], state: 'running', wakeAt: 300_000 },
    { name: 'last one healthy long enough: done', rec: rec([unit('a', { phase: 'done' }), unit('b', { phase: 'inflight', startedAt: 0, healthySince: 0 })]), health: { b: 'healthy' }, now: 10_000, replace: [], revert: [], state: 'done' },
    { name: 'failed: stops, no revert without the flag', rec: rec([unit('a', { phase: 'inflight', startedAt: 0 }), unit('b')]), health: { a: 'failed' }, now: FAILED_SETTLE_MS, replace: [], revert: [], state: 'failed' },
    { name: 'failed right after the replacement: not believed yet (the old content\'s state), judged again', rec: rec([unit('a', { phase: 'inflight', startedAt: 0 }), unit('b')]), health: { a: 'failed' }, now: 5, replace: [], revert: [], state: 'running', wakeAt: FAILED_SETTLE_MS },
    { name: 'failed with auto-revert: previous content back', rec: rec([unit('a', { phase: 'inflight', startedAt: 0 }), unit('b')], 1, true), health: { a: 'failed' }, now: FAILED_SETTLE_MS, replace: [], revert: ['a'], state: 'failed' },
    { name: 'deadline passed: stops', rec: rec([unit('a', { phase: 'inflight', startedAt: 0 })], 1, true), health: { a: 'pending' }, now: 300_000, replace: [], revert: ['a'], state: 'failed' },
    { name: 'a created unit (no previous) is not reverted', rec: rec([unit('a', { phase: 'inflight', startedAt: 0, previousHash: undefined })], 1, true), health: { a: 'failed' }, now: FAILED_SETTLE_MS, replace: [], revert: [], state: 'failed' },
  ];
  for (const t of table) {
    it(t.name, () => {
      const s = stepRollout(t.rec, obs(t.health), t.now);
      assert.deepEqual(s.replace, t.replace);
      assert.deepEqual(s.revert.map((r) => r.unit), t.revert);
      assert.equal(s.record.state, t.state);
      assert.equal(s.wakeAt, t.wakeAt);
      const inflight = s.record.units.filter((u) => u.phase === 'inflight').length;
      assert.ok(inflight <= t.rec.opts.maxParallel, 'never more than max-parallel in flight');
    });
  }
  it('reverts put back the previous hash and name the unit in the error', () => {
    const s = stepRollout(rec([unit('a', { phase: 'inflight', startedAt: 0 })], 1, true), obs({ a: 'failed' }), FAILED_SETTLE_MS);
    assert.deepEqual(s.revert, [{ unit: 'a', hash: P }]);
    assert.match(s.record.error ?? '', /^a: failed to start/);
  });
  it('an ended rollout does nothing', () => {
    const r = { ...rec([unit('a')]), state: 'failed' as const };
    assert.deepEqual(stepRollout(r, obs({}), 0), { record: r, replace: [], revert: [] });
  });
  it('combines hosts: worst wins, no hosts is pending', () => {
    assert.equal(combineHealth(['healthy', 'pending']), 'pending');
    assert.equal(combineHealth(['healthy', 'failed', 'pending']), 'failed');
    assert.equal(combineHealth(['healthy', 'healthy']), 'healthy');
    assert.equal(combineHealth([]), 'pending');
  });
});
