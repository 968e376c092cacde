/**
 * A global unit rolls host by host (src/rollout/global-step.ts): its host
 * list goes into the record a pass before its new content goes into the unit
 * record; hosts move one slot of max-parallel each, judged from their own
 * state; a failure reverts the hosts that moved (or, without --auto-revert,
 * leaves the others pinned); a host that stops reporting in flight is not healthy; a pending one that left is dropped at the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutHostRecord, RolloutRecord, RolloutUnitRecord, UnitStateRecord } from '../../src/registry/records.js';
import type { ClusterUnitRecord } from '../../src/registry/rollout-store.js';
import { decidePass } from '../../src/rollout/driver.js';
import type { HostView } from '../../src/rollout/global-step.js';
import type { Health, HealthTraits } from '../../src/rollout/health.js';
import { rolloutPins } from '../../src/rollout/pins.js';
import { FAILED_SETTLE_MS, stepRollout } from '../../src/rollout/step.js';

const H = 'a'.repeat(40);
const P = 'b'.repeat(40);
const M1 = '1'.repeat(32);
const M2 = '2'.repeat(32);
const M3 = '3'.repeat(32);
const HOSTS = [M1, M2, M3];
const opts = { maxParallel: 1, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: false };
const unit = (name: string, extra: Partial<RolloutUnitRecord> = {}): RolloutUnitRecord => ({ name, hash: H, previousHash: P, phase: 'pending', ...extra });
const host = (machineId: string, phase: RolloutHostRecord['phase'], extra: Partial<RolloutHostRecord> = {}): RolloutHostRecord => ({ machineId, phase, ...extra });
const rec = (units: RolloutUnitRecord[], o: Partial<typeof opts> = {}): RolloutRecord => ({ source: 's', commit: '', state: 'running', opts: { ...opts, ...o }, units });
const never = (): Health => 'pending';

/** `g` is global on `machines`; `health` says how each host is (absent: pending; 'gone': it reports nothing). */
function view(machines: readonly string[], health: (m: string) => Health | 'gone' = () => 'pending'): HostView {
  return { hostsOf: (u) => (u === 'g' ? machines : undefined), onHost: (_u, _h, m) => health(m) };
}
const phases = (r: RolloutRecord, name = 'g'): string[] => (r.units.find((u) => u.name === name)?.hosts ?? []).map((h) => `${h.machineId[0]}:${h.phase}`);
const inflightSlots = (r: RolloutRecord): number =>
  r.units.reduce((n, u) => n + (u.phase !== 'inflight' ? 0 : u.hosts ? u.hosts.filter((h) => h.phase === 'inflight').length : 1), 0);

describe('a global unit rolls host by host', () => {
  it('on 3 hosts with max-parallel 1: the host list first, then the content, then one host at a time', () => {
    let r = rec([unit('g')]);
    let now = 0;
    const moved: string[][] = [];
    const replaced: number[] = [];
    // Hosts in flight run the new content healthily; pending ones still report the old (pending for the new).
    for (let pass = 0; pass < 20 && r.state === 'running'; pass++) {
      const inflight = new Set((r.units[0]!.hosts ?? []).filter((h) => h.phase === 'inflight').map((h) => h.machineId));
      const s = stepRollout(r, never, now, view(HOSTS, (m) => (inflight.has(m) ? 'healthy' : 'pending')));
      if (s.replace.length > 0) replaced.push(pass);
      r = s.record;
      assert.ok(inflightSlots(r) <= 1, `pass ${pass}: never more than max-parallel hosts in flight: ${phases(r).join(' ')}`);
      const now_ = r.units[0]!.hosts?.filter((h) => h.phase === 'inflight').map((h) => h.machineId[0]!) ?? [];
      if (now_.length > 0 && now_.join() !== moved.at(-1)?.join()) moved.push(now_);
      now = s.wakeAt ?? now;
    }
    assert.equal(r.state, 'done');
    assert.deepEqual(phases(r), ['1:done', '2:done', '3:done']);
    assert.deepEqual(moved, [['1'], ['2'], ['3']], 'one host after another, in order');
    assert.deepEqual(replaced, [1], 'the unit record is written once, on the pass after the host list');
  });

  it('the first pass records the hosts, all pending, writes nothing and looks again at once', () => {
    const s = stepRollout(rec([unit('g')]), never, 5, view([M2, M1, M3]));
    assert.deepEqual(s.replace, []);
    assert.deepEqual(phases(s.record), ['1:pending', '2:pending', '3:pending']);
    assert.equal(s.record.units[0]!.phase, 'inflight');
    assert.equal(s.record.units[0]!.startedAt, undefined, 'no start time: the content is not written yet');
    assert.equal(s.wakeAt, 5);
  });

  it('counts toward max-parallel with the other units', () => {
    // Pass 1: g's host list takes the slot it will use; a takes the other; b waits.
    let s = stepRollout(rec([unit('g'), unit('a'), unit('b')], { maxParallel: 2 }), never, 0, view(HOSTS));
    assert.deepEqual(s.replace, ['a']);
    assert.deepEqual(s.record.units.map((u) => u.phase), ['inflight', 'inflight', 'pending']);
    // Pass 2: g's content is written and its first host moves; a is still in flight: no room for b, nor for a second host.
    s = stepRollout(s.record, never, 1, view(HOSTS));
    assert.deepEqual(s.replace, ['g']);
    assert.deepEqual(phases(s.record), ['1:inflight', '2:pending', '3:pending']);
    assert.equal(s.record.units[2]!.phase, 'pending');
    assert.equal(inflightSlots(s.record), 2);
    // a done: the freed slot goes to g's next host first (g comes first), b still waits.
    const r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'done'), host(M2, 'inflight', { startedAt: 0 }), host(M3, 'pending')] }), unit('a', { phase: 'done' }), unit('b')], { maxParallel: 2 });
    s = stepRollout(r, never, 2, view(HOSTS));
    assert.deepEqual(phases(s.record), ['1:done', '2:inflight', '3:inflight']);
    assert.equal(s.record.units[2]!.phase, 'pending');
    assert.deepEqual(s.replace, []);
  });

  const failing = (autoRevert: boolean) => stepRollout(
    rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'done'), host(M2, 'inflight', { startedAt: 0 }), host(M3, 'pending')] }), unit('b')], { autoRevert }),
    never,
    FAILED_SETTLE_MS,
    view(HOSTS, (m) => (m === M2 ? 'failed' : m === M1 ? 'healthy' : 'pending')),
  );

  it('a failure on host 2 with auto-revert: moved hosts are reverted, the previous content is written back, every host pinned to it', () => {
    const s = failing(true);
    assert.equal(s.record.state, 'failed');
    assert.equal(s.record.units[0]!.phase, 'reverted');
    assert.deepEqual(phases(s.record), ['1:reverted', '2:reverted', '3:pending']);
    assert.deepEqual(s.revert, [{ unit: 'g', hash: P }]);
    assert.match(s.record.error ?? '', /^g: failed to start on 222222222222; rollout stopped, previous content put back/);
    assert.deepEqual(Object.fromEntries(rolloutPins([{ value: s.record }]).get('g')?.hosts ?? []), { [M1]: P, [M2]: P, [M3]: P });
  });

  it('a failure without auto-revert: the rollout stops, the pending host stays pending and pinned to the old content', () => {
    const s = failing(false);
    assert.equal(s.record.state, 'failed');
    assert.equal(s.record.units[0]!.phase, 'failed');
    assert.deepEqual(phases(s.record), ['1:done', '2:failed', '3:pending']);
    assert.deepEqual(s.revert, []);
    assert.equal(s.record.units[1]!.phase, 'pending', 'b never started');
    assert.deepEqual(Object.fromEntries(rolloutPins([{ value: s.record }]).get('g')?.hosts ?? []), { [M3]: P });
  });

  it('a host not healthy by the deadline fails it; a failure right after the start is not believed yet', () => {
    const r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'inflight', { startedAt: 100 })] })]);
    assert.equal(stepRollout(r, never, 100 + opts.healthyDeadlineMs, view([M1])).record.units[0]!.reason, 'not healthy within 5m0s on 111111111111');
    const early = stepRollout(r, never, 110, view([M1], () => 'failed'));
    assert.equal(early.record.state, 'running');
    assert.equal(early.wakeAt, 100 + FAILED_SETTLE_MS);
  });

  it('a host that stops reporting in flight is not healthy: it holds the next host back and fails the rollout at the deadline (the new content may be what took it down)', () => {
    const r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'inflight', { startedAt: 0 }), host(M2, 'pending'), host(M3, 'pending')] })]);
    const gone = view(HOSTS, (m) => (m === M1 ? 'gone' : 'pending'));
    const s = stepRollout(r, never, 1, gone);
    assert.deepEqual(phases(s.record), ['1:inflight', '2:pending', '3:pending']);
    const late = stepRollout(r, never, opts.healthyDeadlineMs, gone);
    assert.equal(late.record.state, 'failed');
    assert.equal(late.record.units[0]?.reason, 'not healthy within 5m0s on 111111111111');
    // Back and healthy in time: it counts, and the next host goes.
    const back = stepRollout(stepRollout(r, never, 1, view(HOSTS, (m) => (m === M1 ? 'healthy' : 'pending'))).record, never, 1 + opts.minHealthyMs, view(HOSTS, (m) => (m === M1 ? 'healthy' : 'pending')));
    assert.deepEqual(phases(back.record), ['1:done', '2:inflight', '3:pending']);
  });

  it('a pending host that left is skipped (still pinned) and dropped once the others are done', () => {
    const gone = (m: string): Health | 'gone' => (m === M2 ? 'gone' : 'healthy');
    let r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'inflight', { startedAt: 0, healthySince: 0 }), host(M2, 'pending'), host(M3, 'pending')] })]);
    let s = stepRollout(r, never, opts.minHealthyMs, view(HOSTS, gone));
    assert.deepEqual(phases(s.record), ['1:done', '2:pending', '3:inflight'], 'the gone host is passed over');
    assert.deepEqual(Object.fromEntries(rolloutPins([{ value: s.record }]).get('g')?.hosts ?? []), { [M2]: P }, 'back before its turn, it keeps the old content');
    r = s.record;
    s = stepRollout(r, never, 2 * opts.minHealthyMs, view(HOSTS, gone));
    s = stepRollout(s.record, never, 4 * opts.minHealthyMs, view(HOSTS, gone));
    assert.deepEqual(phases(s.record), ['1:done', '2:done', '3:done']);
    assert.equal(s.record.state, 'done');
  });

  it('no host reports it: its content is written and it is done', () => {
    let s = stepRollout(rec([unit('g')]), never, 0, view([]));
    s = stepRollout(s.record, never, 1, view([]));
    assert.deepEqual(s.replace, ['g']);
    assert.equal(s.record.state, 'done');
  });
});

describe('decidePass for a global unit', () => {
  const SERVICE: HealthTraits = { type: 'service', oneshot: false, remainAfterExit: false };
  const st = (machineId: string, hash: string, active = 'active'): UnitStateRecord => ({ unit: 'g', machineId, hash, load: 'loaded', active, sub: active === 'active' ? 'running' : 'dead', applied: 'launched' });
  const cu = (hash: string, revision = 5): ClusterUnitRecord => ({ hash, desired: 'launched', revision });
  const pass = (record: RolloutRecord, unitHash: string, states: UnitStateRecord[], now: number) =>
    decidePass({ record, units: new Map([['g', cu(unitHash, 9)]]), states: new Map([['g', states]]), traits: new Map([[H, SERVICE]]), globals: new Set(['g']), now });

  it('writes the host list a pass before the new content, and that pass is not taken for a revert', () => {
    const old = HOSTS.map((m) => st(m, P));
    const first = pass(rec([unit('g')]), P, old, 0);
    assert.deepEqual(first.writes, [], 'the unit record keeps the old content while the host list is committed');
    assert.equal(first.changed, true);
    assert.deepEqual(phases(first.record), ['1:pending', '2:pending', '3:pending']);
    assert.equal(first.wakeAt, 0);
    const second = pass(first.record, P, old, 10);
    assert.deepEqual(second.writes, [{ unit: 'g', hash: H, desired: 'launched', expect: 9 }]);
    assert.equal(second.record.units[0]!.phase, 'inflight');
    assert.deepEqual(phases(second.record), ['1:inflight', '2:pending', '3:pending']);
    // The host's own state decides: M1 healthy on the new content, the others still on the old.
    const third = pass(second.record, H, [st(M1, H), st(M2, P), st(M3, P)], 20);
    assert.equal(third.record.units[0]!.hosts?.[0]?.healthySince, 20);
  });

  it('a unit record back at the previous content after the content was written: reverted, moved hosts marked so', () => {
    const r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'done'), host(M2, 'inflight', { startedAt: 0 }), host(M3, 'pending')] })]);
    const d = pass(r, P, HOSTS.map((m) => st(m, P)), 5);
    assert.equal(d.record.units[0]!.phase, 'reverted');
    assert.deepEqual(phases(d.record), ['1:reverted', '2:reverted', '3:pending']);
  });

  it('a failure with auto-revert writes the previous content back', () => {
    const r = rec([unit('g', { phase: 'inflight', startedAt: 0, hosts: [host(M1, 'done'), host(M2, 'inflight', { startedAt: 0 }), host(M3, 'pending')] })], { autoRevert: true });
    const d = pass(r, H, [st(M1, H), st(M2, H, 'failed'), st(M3, P)], FAILED_SETTLE_MS);
    assert.deepEqual(d.writes, [{ unit: 'g', hash: P, desired: 'launched', expect: 9 }]);
    assert.equal(d.record.state, 'failed');
    assert.deepEqual(phases(d.record), ['1:reverted', '2:reverted', '3:pending']);
    assert.match(d.record.error ?? '', /on 222222222222/, 'the host it failed on is named');
  });
});
