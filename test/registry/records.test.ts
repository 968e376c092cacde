/**
 * Records read from etcd are untrusted: names must pass unit name validation,
 * hashes and machine ids their exact form, numbers a range, and a record must
 * agree with the key it was read from (pure: no store needed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keys } from '../../src/registry/keys.js';
import {
  REASON_MAX,
  TTL_SECONDS_MAX,
  decodeAssignment,
  decodeBid,
  decodeMachine,
  decodeOffer,
  decodeRollout,
  decodeSourceStatus,
  decodeUnit,
  decodeUnitState,
  decodeUnplaced,
  encode,
} from '../../src/registry/records.js';
import { assignmentKeyOf, recordDecoders } from '../../src/registry/records-at.js';
import { MAX_TIMER_MS, timerDelay } from '../../src/util/timers.js';

const H = 'a'.repeat(40);
const M = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const EVIL = 'x/../../../../etc/cron.d/evil.service';
const json = (v: unknown) => JSON.stringify(v);

test('unit names in records pass the same validation as at submit', () => {
  const bad = [EVIL, '../evil.service', '.hidden.service', 'flotilla-lease.target', `${'a'.repeat(248)}.service`, 'no-type', ''];
  for (const name of bad) {
    assert.equal(decodeUnit(json({ name, hash: H, desired: 'launched' })), undefined, name);
    assert.equal(decodeAssignment(json({ unit: name, hash: H, desired: 'launched' })), undefined, name);
    assert.equal(decodeUnitState(json({ unit: name, machineId: M, hash: H, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' })), undefined, name);
    assert.equal(decodeUnplaced(json({ unit: name, hash: H, reasons: {}, at: 'now' })), undefined, name);
  }
  const longest = `${'a'.repeat(247)}.service`;
  assert.deepEqual(decodeAssignment(json({ unit: longest, hash: H, desired: 'loaded' })), { unit: longest, hash: H, desired: 'loaded' });
});

test('hashes are 40 lowercase hex digits, machine ids 32', () => {
  for (const hash of ['A'.repeat(40), 'a'.repeat(39), 'a'.repeat(41), 'g'.repeat(40), '../x']) {
    assert.equal(decodeUnit(json({ name: 'a.service', hash, desired: 'launched' })), undefined, hash);
    assert.equal(decodeAssignment(json({ unit: 'a.service', hash, desired: 'launched' })), undefined, hash);
  }
  for (const id of ['m1', M.toUpperCase(), `${M}0`, '../x']) {
    assert.equal(decodeMachine(json({ id, publicIP: '', metadata: {} })), undefined, id);
  }
  // A state whose agent leaves the hash empty is still read (old agents).
  assert.equal(decodeUnitState(json({ unit: 'a.service', machineId: M, hash: '', load: 'l', active: 'a', sub: 's', applied: 'loaded' }))?.hash, '');
});

test('a machine TTL is bounded: 1e12 s counts as the longest an agent may have, not as years', () => {
  const ttl = (ttlSeconds: unknown) => decodeMachine(json({ id: M, publicIP: '', metadata: {}, ttlSeconds }))?.ttlSeconds;
  assert.equal(ttl(1e12), TTL_SECONDS_MAX);
  assert.equal(decodeMachine(`{"id":"${M}","publicIP":"","metadata":{},"ttlSeconds":1e400}`)?.ttlSeconds, TTL_SECONDS_MAX); // parses as Infinity
  assert.equal(ttl(30), 30);
  assert.equal(ttl(0), undefined);
  assert.equal(ttl(-5), undefined);
  assert.equal(ttl('30'), undefined);
  const port = (sshPort: unknown) => decodeMachine(json({ id: M, publicIP: '', metadata: {}, sshPort }))?.sshPort;
  assert.equal(port(2222), 2222);
  assert.equal(port(65536), undefined);
  assert.equal(port(22.5), undefined);
});

test('bids: load and free memory are bounded integers, refusals name valid hashes and units, reasons are cut', () => {
  const bid = (over: Record<string, unknown>) => decodeBid(json({ round: 'r-1', machineId: M, refuseContent: {}, refuseUnit: {}, load: 3, freeMemoryBytes: 1024, ...over }));
  assert.ok(bid({}));
  for (const load of [1e300, -1, 1.5, 'x']) assert.equal(bid({ load }), undefined, String(load));
  for (const freeMemoryBytes of [2 ** 60, -1]) assert.equal(bid({ freeMemoryBytes }), undefined, String(freeMemoryBytes));
  assert.equal(bid({ refuseContent: { 'not-a-hash': 'x' } }), undefined);
  assert.equal(bid({ refuseUnit: { [EVIL]: 'x' } }), undefined);
  assert.equal(bid({ round: 'r/1' }), undefined);
  const long = bid({ refuseUnit: { 'a.service': 'x'.repeat(100_000) } });
  assert.equal(long?.refuseUnit['a.service']?.length, REASON_MAX);
});

test('offers: unit counts are bounded, names valid', () => {
  const offer = (content: Record<string, unknown>) => decodeOffer(json({ round: '000000000012-00000001', contents: [{ hash: H, units: 2, hostChecks: true, ...content }] }));
  assert.ok(offer({}));
  assert.equal(offer({ units: 1e12 }), undefined);
  assert.equal(offer({ units: -1 }), undefined);
  assert.equal(offer({ names: ['a.service', EVIL] }), undefined);
  assert.deepEqual(offer({ names: ['a.service'] })?.contents[0]?.names, ['a.service']);
});

test('states: the failure reason is optional (old agents write none), a string, and cut to a bounded length', () => {
  const base = { unit: 'a.service', machineId: M, hash: H, load: 'loaded', active: 'failed', sub: 'failed', applied: 'launched' };
  assert.equal(decodeUnitState(json(base))?.failure, undefined);
  assert.equal(decodeUnitState(json({ ...base, failure: 'cannot write its unit file: EACCES' }))?.failure, 'cannot write its unit file: EACCES');
  assert.equal(decodeUnitState(json({ ...base, failure: '' }))?.failure, undefined);
  assert.equal(decodeUnitState(json({ ...base, failure: 42 })), undefined);
  assert.equal(decodeUnitState(json({ ...base, failure: 'y'.repeat(5000) }))?.failure?.length, REASON_MAX);
  // Round trip: what the reporter encodes is what readers decode.
  const rec = { ...base, applied: 'launched' as const, failure: 'x' };
  assert.deepEqual(decodeUnitState(encode(rec)), rec);
});

test('unplaced reasons are keyed by machine ids or "*"', () => {
  assert.ok(decodeUnplaced(json({ unit: 'a.service', hash: H, reasons: { [M]: 'no', '*': 'none live' }, at: 'now' })));
  assert.equal(decodeUnplaced(json({ unit: 'a.service', hash: H, reasons: { 'not-a-machine': 'no' }, at: 'now' })), undefined);
});

test('a record counts only if it agrees with its key', () => {
  const keys = new Keys('/t/');
  const d = recordDecoders(keys);
  const assignment = json({ unit: 'web.service', hash: H, desired: 'launched' });
  assert.ok(d.assignment(assignment, keys.assignment(M, 'web.service')));
  assert.equal(d.assignment(assignment, keys.assignment(M, 'db.service')), undefined, 'value names another unit than its key');
  assert.equal(d.assignment(assignment, keys.assignment('m1', 'web.service')), undefined, 'key names no machine id');
  assert.equal(d.assignment(assignment, `${keys.assignment(M, 'web.service')}/x`), undefined);
  const unit = json({ name: 'web.service', hash: H, desired: 'launched' });
  assert.ok(d.unit(unit, keys.unit('web.service')));
  assert.equal(d.unit(unit, keys.unit('db.service')), undefined);
  const state = json({ unit: 'web.service', machineId: M, hash: H, load: 'l', active: 'a', sub: 's', applied: 'launched' });
  assert.ok(d.state(state, keys.state('web.service', M)));
  assert.equal(d.state(state, keys.state('web.service', 'b'.repeat(32))), undefined, 'published under another machine');
  const machine = json({ id: M, publicIP: '', metadata: {} });
  assert.equal(d.machine(machine, keys.machine('b'.repeat(32))), undefined);
  const bid = json({ round: 'r-1', machineId: M, refuseContent: {}, refuseUnit: {}, load: 0, freeMemoryBytes: 0 });
  assert.ok(d.bid(bid, keys.bid('r-1', M)));
  assert.equal(d.bid(bid, keys.bid('r-2', M)), undefined);
  // What an unreadable assignment's key alone says, if it says anything valid.
  assert.deepEqual(assignmentKeyOf(keys, keys.assignment(M, 'web.service')), { machineId: M, unit: 'web.service' });
  assert.equal(assignmentKeyOf(keys, keys.assignment(M, '..')), undefined);
});

test('timer delays are clamped to what Node honours (over 2^31 - 1 ms it would fire at once)', () => {
  assert.equal(timerDelay(1e15), MAX_TIMER_MS);
  assert.equal(timerDelay(-5), 0);
  assert.equal(timerDelay(Number.NaN), MAX_TIMER_MS);
  assert.equal(timerDelay(1500), 1500);
});

test('unknown fields are dropped, malformed optional machine fields are left out, not kept as undefined', () => {
  assert.deepEqual(decodeUnit(json({ name: 'a.service', hash: H, desired: 'loaded', extra: { big: 'x'.repeat(100) } })), { name: 'a.service', hash: H, desired: 'loaded' });
  const m = decodeMachine(json({ id: M, publicIP: '10.0.0.1', metadata: { a: 'b' }, sshPort: 'x', systemdScope: 'kernel', ttlSeconds: -1, future: 1 }));
  assert.deepEqual(m, { id: M, publicIP: '10.0.0.1', metadata: { a: 'b' }, version: '' });
  assert.deepEqual(Object.keys(m ?? {}), ['id', 'publicIP', 'metadata', 'version']);
  assert.equal(decodeMachine(json({ id: M, publicIP: '', metadata: { a: 1 } })), undefined, 'metadata values are strings');
  assert.deepEqual(decodeMachine(json({ id: M, publicIP: '', metadata: { constructor: 'x', prototype: 'y' } }))?.metadata, { constructor: 'x', prototype: 'y' }, 'any key is the user\'s');
  // An empty failure is no failure; the key is absent, as an agent that never failed writes it.
  const s = decodeUnitState(json({ unit: 'a.service', machineId: M, hash: '', load: 'loaded', active: 'active', sub: 'running', applied: 'launched', failure: '' }));
  assert.ok(s && !('failure' in s));
});

test('a reason keyed "__proto__" is dropped as data, never set as a prototype', () => {
  const u = decodeUnplaced(`{"unit":"a.service","hash":"${H}","reasons":{"__proto__":{"polluted":"yes"},"*":"no machine"},"at":"t"}`);
  assert.deepEqual(Object.keys(u?.reasons ?? {}), ['*']);
  assert.equal(Object.getPrototypeOf(u?.reasons), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('rollouts: units and hosts are unique, a host list needs the content to keep, texts are cut', () => {
  const opts = { maxParallel: 1, minHealthyMs: 0, healthyDeadlineMs: 1000, autoRevert: false };
  const unit = (name: string, extra: object = {}) => ({ name, hash: H, phase: 'pending', ...extra });
  const rollout = (units: unknown[], extra: object = {}) => decodeRollout(json({ source: 's', commit: '', opts, state: 'running', units, ...extra }));
  assert.ok(rollout([unit('a.service'), unit('b.service')]));
  assert.equal(rollout([unit('a.service'), unit('a.service')]), undefined, 'the same unit twice');
  const host = { machineId: M, phase: 'pending' };
  assert.equal(rollout([unit('a.service', { hosts: [host] })]), undefined, 'hosts without previousHash');
  assert.ok(rollout([unit('a.service', { previousHash: H, hosts: [host] })]));
  assert.equal(rollout([unit('a.service', { previousHash: H, hosts: [host, host] })]), undefined, 'the same host twice');
  assert.equal(rollout([unit('a.service', { startedAt: -1 })]), undefined);
  assert.equal(rollout([], { error: 'e'.repeat(5000) })?.error?.length, REASON_MAX);
  assert.equal(rollout([], { opts: { ...opts, maxParallel: 0 } }), undefined);
  const status = decodeSourceStatus(json({ name: 's', rollout: { state: 'failed', commit: '', done: 1, total: 2, unit: 'a.service', at: 't' }, error: { message: 'm'.repeat(5000), at: 't' } }));
  assert.equal(status?.rollout?.unit, 'a.service');
  assert.equal(status?.error?.message.length, REASON_MAX);
  assert.equal(decodeSourceStatus(json({ name: 's', applying: { commit: '', dirty: false, at: 't' } })), undefined, 'applying needs its step count');
});
