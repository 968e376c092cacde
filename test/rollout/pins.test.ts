/** Which hosts of a global unit a rollout keeps on the previous content (src/rollout/pins.ts), and the engine's assignment check honoring it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAssignments } from '../../src/engine/assignments.js';
import { decide } from '../../src/engine/decide.js';
import { takeSnapshot } from '../../src/engine/snapshot.js';
import { decodeRollout, encode, type RolloutHostRecord, type RolloutRecord, type RolloutRunState, type RolloutUnitRecord } from '../../src/registry/records.js';
import { pinnedHash, rolloutPins } from '../../src/rollout/pins.js';
import { machine, memory, MemoryCluster, service } from '../engine/support/memory-view.js';

const H = 'a'.repeat(40);
const P = 'b'.repeat(40);
const M1 = machine('1');
const M2 = machine('2');
const M3 = machine('3');
const host = (machineId: string, phase: RolloutHostRecord['phase']): RolloutHostRecord => ({ machineId, phase });
const rec = (state: RolloutRunState, u: Partial<RolloutUnitRecord>): RolloutRecord => ({
  source: 's', commit: '', state,
  opts: { maxParallel: 1, minHealthyMs: 1000, healthyDeadlineMs: 60_000, autoRevert: false },
  units: [{ name: 'g.service', hash: H, previousHash: P, phase: 'inflight', ...u }],
});
const pinsOf = (r: RolloutRecord): Record<string, string> => Object.fromEntries(rolloutPins([{ value: r }]).get('g.service')?.hosts ?? []);

describe('rolloutPins', () => {
  const hosts = [host(M1, 'done'), host(M2, 'inflight'), host(M3, 'pending')];
  const rows: Array<[string, RolloutRecord, Record<string, string>]> = [
    ['running: only the host not moved yet keeps the previous content', rec('running', { hosts }), { [M3]: P }],
    ['failed without revert: hosts never reached stay on the previous content', rec('failed', { phase: 'failed', hosts }), { [M3]: P }],
    ['a host moved back is pinned too', rec('running', { hosts: [host(M1, 'reverted'), host(M2, 'pending')] }), { [M1]: P, [M2]: P }],
    ['done: no pins', rec('done', { phase: 'done', hosts: hosts.map((h) => ({ ...h, phase: 'done' as const })) }), {}],
    ['unit reverted: hosts moved back and hosts never moved stay pinned (the unit record\'s revert may be seen later)', rec('failed', { phase: 'reverted', hosts: [host(M1, 'reverted'), host(M2, 'reverted'), host(M3, 'pending')] }), { [M1]: P, [M2]: P, [M3]: P }],
    ['unit left by the rollout (done): no pins', rec('running', { phase: 'done', hosts }), {}],
    ['pending unit: nothing moved, nothing pinned (its record is unchanged)', rec('running', { phase: 'pending', hosts }), {}],
    ['not global (no hosts): one step, no pins', rec('running', {}), {}],
  ];
  for (const [name, r, want] of rows) it(name, () => assert.deepEqual(pinsOf(r), want));

  it('a pin holds only while the unit record is at one of the rollout\'s contents', () => {
    const pins = rolloutPins([{ value: rec('failed', { phase: 'failed', hosts }) }]);
    assert.equal(pinnedHash(pins, 'g.service', H, 0, M3), P, 'record at the new content');
    assert.equal(pinnedHash(pins, 'g.service', P, 0, M3), P, 'record back at the previous content');
    assert.equal(pinnedHash(pins, 'g.service', 'c'.repeat(40), 0, M3), undefined, 'someone gave the unit a third content: every host runs it');
    assert.equal(pinnedHash(pins, 'g.service', H, 0, M1), undefined, 'a host that moved is not pinned');
  });

  it('after a failed rollout, a unit record written again (even with the content it failed on) ends the pins: a new try on every host', () => {
    const failed = rolloutPins([{ value: rec('failed', { phase: 'failed', hosts }), modRevision: 50 }]);
    assert.equal(pinnedHash(failed, 'g.service', H, 49, M3), P, 'the unit record as the rollout left it');
    assert.equal(pinnedHash(failed, 'g.service', H, 50, M3), P, 'written in the rollout\'s own last transaction');
    assert.equal(pinnedHash(failed, 'g.service', H, 51, M3), undefined, 'written by someone since');
    // A running rollout rewrites its record each pass: revisions say nothing there.
    const running = rolloutPins([{ value: rec('running', { hosts }), modRevision: 50 }]);
    assert.equal(pinnedHash(running, 'g.service', H, 51, M3), P);
  });
});

describe('rollout host records decode strictly', () => {
  const base = rec('running', { hosts: [host(M1, 'pending')] });
  it('round-trips', () => assert.deepEqual(decodeRollout(encode(base)), base));
  const bad: Array<[string, unknown]> = [
    ['a bad machine id', [{ machineId: 'x', phase: 'pending' }]],
    ['a bad phase', [{ machineId: M1, phase: 'gone' }]],
    ['a host twice', [host(M1, 'pending'), host(M1, 'done')]],
    ['a bad time', [{ machineId: M1, phase: 'inflight', startedAt: -1 }]],
  ];
  for (const [name, hostsValue] of bad) {
    it(`refuses ${name}`, () => {
      const o = JSON.parse(encode(base)) as { units: Array<Record<string, unknown>> };
      o.units[0]!.hosts = hostsValue;
      assert.equal(decodeRollout(JSON.stringify(o)), undefined);
    });
  }
  it('refuses hosts without a previous content', () => {
    const o = JSON.parse(encode(base)) as { units: Array<Record<string, unknown>> };
    delete o.units[0]!.previousHash;
    assert.equal(decodeRollout(JSON.stringify(o)), undefined);
  });
});

describe('checkAssignments keeps a pinned host on the previous content', () => {
  it('refreshes unpinned hosts to the unit record, leaves the pinned one', () => {
    const c = new MemoryCluster().live(M1).live(M2).unitFrom('g.service', service('old', ''), 'launched');
    c.unitFrom('g.service', `${service('old')}[X-Fleet]\nGlobal=true\n`);
    const old = 'c'.repeat(40);
    c.assign('g.service', M1).assign('g.service', M2);
    for (const e of c.placedAssignments()) e.record.hash = old;
    c.pins.set('g.service', new Map([[M2, old]]));
    const changes = checkAssignments(c, takeSnapshot(c), 0);
    const unitHash = c.unit('g.service')!.hash;
    assert.deepEqual(changes.updates.map((u) => [u.entry.machineId, u.record.hash]), [[M1, unitHash]]);
    assert.equal(changes.deletes.length, 0);
  });
});

describe('a pinned host placed anew (its assignment was released) still gets the previous content', () => {
  it('a direct placement writes the pinned hash', () => {
    const c = new MemoryCluster().live(M1).live(M2).unitFrom('g.service', `${service('new')}[X-Fleet]\nGlobal=true\n`);
    const old = 'c'.repeat(40);
    c.pins.set('g.service', new Map([[M2, old]]));
    const plan = decide({ view: c, snap: takeSnapshot(c), now: new Date(0) }, memory());
    const unitHash = c.unit('g.service')!.hash;
    const written = Object.fromEntries(plan.writes.ops().flatMap((o) => (o.op === 'put' && o.key.includes('/assignments/') ? [[o.key.split('/').at(-2), (JSON.parse(o.value) as { hash: string }).hash]] : [])));
    assert.deepEqual(written, { [M1]: unitHash, [M2]: old });
  });
});
