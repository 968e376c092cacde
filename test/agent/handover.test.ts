/** The returning host's handover decision (pure): when may its old copy stop? */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handoverTimeoutMs, handoverVerdict, type HandoverFacts } from '../../src/agent/handover.js';
import type { UnitStateRecord } from '../../src/registry/records.js';

const launched = { name: 'web.service', hash: 'h1', desired: 'launched' as const };

function state(machineId: string, active: string, sub = active === 'active' ? 'running' : 'dead'): UnitStateRecord {
  return { unit: 'web.service', machineId, hash: 'h1', load: 'loaded', active, sub, applied: 'launched' };
}

function facts(over: Partial<HandoverFacts>): HandoverFacts {
  return { unit: launched, others: [], global: false, waitedMs: 0, timeoutMs: 30_000, ...over };
}

test('waits while no replacement is active, however it is getting on', () => {
  assert.deepEqual(handoverVerdict(facts({})), { stop: false });
  assert.deepEqual(handoverVerdict(facts({ others: [state('m2', 'activating', 'start')] })), { stop: false });
  assert.deepEqual(handoverVerdict(facts({ others: [state('m2', 'inactive'), state('m3', 'failed', 'failed')] })), { stop: false });
  assert.deepEqual(handoverVerdict(facts({ others: [state('m2', 'deactivating', 'stop')], waitedMs: 29_999 })), { stop: false });
});

test('stops once a replacement is active on another machine', () => {
  const v = handoverVerdict(facts({ others: [state('m2', 'inactive'), state('m3', 'active')] }));
  assert.deepEqual(v, { stop: true, reason: 'replacement active on m3' });
});

test('a global unit: copies on other machines are no replacement; the user or the timeout still end it', () => {
  assert.deepEqual(handoverVerdict(facts({ global: true, others: [state('m2', 'active'), state('m3', 'active')] })), { stop: false });
  assert.deepEqual(handoverVerdict(facts({ global: true, unit: undefined })), { stop: true, reason: 'unit destroyed' });
  assert.deepEqual(handoverVerdict(facts({ global: true, waitedMs: 30_000 })), { stop: true, reason: 'not assigned here again after 30 s' });
});

test('stops at once when the user destroyed, unloaded or stopped the unit', () => {
  assert.deepEqual(handoverVerdict(facts({ unit: undefined })), { stop: true, reason: 'unit destroyed' });
  assert.deepEqual(handoverVerdict(facts({ unit: { ...launched, desired: 'inactive' } })), { stop: true, reason: 'desired state inactive' });
  assert.deepEqual(handoverVerdict(facts({ unit: { ...launched, desired: 'loaded' } })), { stop: true, reason: 'desired state loaded' });
});

test('stops after the timeout even if no replacement ever became active', () => {
  const v = handoverVerdict(facts({ others: [state('m2', 'failed', 'failed')], waitedMs: 30_000 }));
  assert.deepEqual(v, { stop: true, reason: 'no replacement active after 30 s' });
});

test('the timeout: 3 x TTL, never under 30 s', () => {
  assert.equal(handoverTimeoutMs(3), 30_000);
  assert.equal(handoverTimeoutMs(10), 30_000);
  assert.equal(handoverTimeoutMs(60), 180_000);
});
