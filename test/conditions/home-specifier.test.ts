import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandConditionSpecifiers } from '../../src/conditions/condition-specifiers.js';

const host = { hostname: 'h1', machineId: 'a'.repeat(32), architecture: 'x86-64' };

test('%h is the manager home when the agent knows it, and left to systemd otherwise', () => {
  assert.deepEqual(expandConditionSpecifiers('%h/kvm-marker', 'x.service', { ...host, home: '/tmp/h1/home' }), { kind: 'expanded', value: '/tmp/h1/home/kvm-marker' });
  assert.deepEqual(expandConditionSpecifiers('%h/kvm-marker', 'x.service', host), { kind: 'unknown' });
});
