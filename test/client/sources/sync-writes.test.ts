/**
 * flotctl sync's writes come from the engine's builder (writesOfPlan): with
 * rolling pacing, running units that change are left to a rollout record
 * written with the status; the outcome line names the unit a rollout
 * stopped on. Pure: plans and reports built by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreparedSync } from '../../../src/client/sources/prepare.js';
import { syncWrites } from '../../../src/client/sources/prepare.js';
import { type SyncResult, followLimitMs, rolloutUnits, syncSummary, throwIfIncomplete } from '../../../src/client/sources/sync.js';
import type { DesiredUnit } from '../../../src/gitops/desired-state.js';
import { type ClusterUnit, planSync } from '../../../src/gitops/sync-plan.js';
import { decodeRollout } from '../../../src/registry/records.js';
import type { InventoryRecord } from '../../../src/registry/records.js';
import type { SyncSnapshot } from '../../../src/registry/source-store.js';
import { ROLLOUT_DEFAULTS } from '../../../src/rollout/options.js';
import { UnitFile } from '../../../src/unit/index.js';

const A = UnitFile.parse('[Service]\nExecStart=/bin/a\n');
const B = UnitFile.parse('[Service]\nExecStart=/bin/b\n');
const COMMIT = 'c'.repeat(40);
const unit = (name: string, file = B, desired: DesiredUnit['desired'] = 'launched'): DesiredUnit => ({ name, file, desired, kind: 'unit', from: name });
const inCluster = (name: string, desired: ClusterUnit['desired'] = 'launched'): [string, ClusterUnit] => [name, { name, hash: A.hash(), desired, revision: 5 }];
const owned = (name: string): InventoryRecord => ({ source: 's', unit: name, hash: A.hash(), commit: '', dirty: false, at: '' });

function prepared(tree: DesiredUnit[], cluster: Array<[string, ClusterUnit]>): PreparedSync {
  const snapshot: SyncSnapshot = { units: new Map(cluster.map(([n, u]) => [n, { name: n, hash: u.hash, desired: u.desired, revision: u.revision }])), inventory: cluster.map(([n]) => owned(n)), definition: undefined, status: undefined, rollout: undefined };
  const plan = planSync({ source: 's', units: tree, cluster: new Map(cluster), inventory: snapshot.inventory, prune: false, allowEmpty: false, adopt: false });
  return {
    name: 's',
    origin: { dir: '/r/units', git: true, repository: 'example.com/r', path: 'units', commit: COMMIT, dirty: false, changed: [], defaultName: 's' },
    tree: { units: tree, warnings: [] },
    snapshot,
    plan,
  };
}

describe('flotctl sync writes', () => {
  const p = prepared([unit('run.service'), unit('held.service'), unit('new.service')], [inCluster('run.service'), inCluster('held.service', 'loaded')]);

  it('without pacing every change is written at once, with a push definition of this directory', () => {
    const w = syncWrites(p, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(w.puts.map((u) => u.name).sort(), ['held.service', 'new.service', 'run.service']);
    assert.equal(w.rolled, undefined);
    assert.equal(w.rollout, undefined);
    assert.deepEqual({ ...w.definition.record }, { name: 's', mode: 'push', repository: 'example.com/r', path: 'units', createdAt: '2026-01-01T00:00:00.000Z' });
    assert.deepEqual(w.applied, { commit: COMMIT, dirty: false, at: '2026-01-01T00:00:00.000Z' });
  });

  it('with pacing a running unit that changes goes to the rollout record; the rest at once', () => {
    const opts = { ...ROLLOUT_DEFAULTS, maxParallel: 2 };
    const w = syncWrites(p, '2026-01-01T00:00:00.000Z', opts);
    assert.deepEqual(w.puts.map((u) => u.name).sort(), ['held.service', 'new.service']);
    assert.deepEqual(w.rolled?.map((u) => u.name), ['run.service']);
    const record = decodeRollout(w.rollout?.value ?? '');
    assert.ok(record);
    assert.equal(record.commit, COMMIT);
    assert.deepEqual(record.opts, opts);
    assert.deepEqual(record.units, [{ name: 'run.service', hash: B.hash(), previousHash: A.hash(), phase: 'pending' }]);
    // What the client follows itself: not the rolled unit.
    assert.ok(rolloutUnits(p).some((u) => u.name === 'run.service'), 'rolloutUnits lists every change; syncSource leaves the rolled ones to the record');
  });

  it('following the engine is bounded by the batches, each within min-healthy-time + healthy-deadline', () => {
    const o = { ...ROLLOUT_DEFAULTS, maxParallel: 2, minHealthyMs: 1000, healthyDeadlineMs: 10_000 };
    assert.equal(followLimitMs(3, o), 2 * 11_000 + 10_000);
  });
});

describe('a sync while a global unit rolls host by host', () => {
  const M1 = '1'.repeat(32);
  const M2 = '2'.repeat(32);
  const P = 'b'.repeat(40);
  // g.service's record already holds A, the content the rollout moves it to; M2 is still pinned to P.
  const rolling = { name: 'g.service', hash: A.hash(), previousHash: P, phase: 'inflight' as const, startedAt: 1, hosts: [{ machineId: M1, phase: 'done' as const }, { machineId: M2, phase: 'pending' as const }] };
  const withRollout = (tree: DesiredUnit[]): PreparedSync => {
    const p = prepared(tree, [inCluster('g.service'), inCluster('run.service')]);
    const record = { source: 's', commit: '', opts: { ...ROLLOUT_DEFAULTS }, state: 'running' as const, units: [rolling] };
    p.snapshot.rollout = { record, revision: 9 };
    return p;
  };
  const opts = { ...ROLLOUT_DEFAULTS, maxParallel: 1 };

  it('carries the unit on into the new record when the new commit leaves it as it is (else its pinned hosts would all move at once)', () => {
    const w = syncWrites(withRollout([unit('g.service', A), unit('run.service')]), '2026-01-01T00:00:00.000Z', opts);
    const record = decodeRollout(w.rollout?.value ?? '');
    assert.equal(record?.state, 'running');
    assert.deepEqual(record?.units.map((u) => u.name), ['run.service', 'g.service']);
    assert.deepEqual(record?.units[1], rolling);
    // Nothing else changes: the record still runs, for the carried unit alone.
    const only = decodeRollout(syncWrites(withRollout([unit('g.service', A), unit('run.service', A)]), '2026-01-01T00:00:00.000Z', opts).rollout?.value ?? '');
    assert.deepEqual([only?.state, only?.units.map((u) => u.name)], ['running', ['g.service']]);
  });

  it('does not carry it when the new commit changes it: the new rollout takes it from its record', () => {
    const record = decodeRollout(syncWrites(withRollout([unit('g.service', B), unit('run.service', A)]), '2026-01-01T00:00:00.000Z', opts).rollout?.value ?? '');
    assert.deepEqual(record?.units.map((u) => [u.name, u.hash, u.previousHash]), [['g.service', B.hash(), A.hash()]]);
  });
});

describe('the outcome of a sync whose rollout did not finish', () => {
  const result = (rollout: SyncResult['rollout']): SyncResult => ({ report: { source: 's' } as SyncResult['report'], steps: 1, rolled: [], rollout, destroyed: [] });

  it('a stopped rollout: one line naming the unit, and saying the previous content is back', () => {
    const stopped = 'web@2.service: failed to start; rollout stopped, previous content put back';
    const r = result({ healthy: ['web@1.service'], failed: [{ unit: 'web@2.service', reason: 'failed to start; previous content put back' }], notStarted: ['web@3.service'], stopped });
    assert.throws(() => throwIfIncomplete(r), (err: Error) => err.message === `Sync of s written, but its rollout stopped: ${stopped}` && !err.message.includes('\n'));
  });

  it('a rollout still going when following ended says the engine carries on', () => {
    assert.throws(() => throwIfIncomplete(result({ healthy: [], failed: [], notStarted: ['a.service'] })), /rollout still has 1 unit\(s\) to do \(a\.service\): the engine carries on/);
  });

  it('everything healthy: no error', () => {
    throwIfIncomplete(result({ healthy: ['a.service'], failed: [], notStarted: [] }));
  });

  it('not followed (--no-block): the summary says the engine rolls the units out', () => {
    const r: SyncResult = { ...result(undefined), report: { source: 's', commit: COMMIT, dirty: false, changes: [{}], unchanged: 2 } as unknown as SyncResult['report'], rolled: ['a.service'] };
    assert.equal(syncSummary(r), 'Synced source s at cccccccccccc: 1 changed, 2 unchanged; the engine rolls out 1 (see flotctl sources)');
    assert.doesNotMatch(syncSummary({ ...r, rollout: { healthy: ['a.service'], failed: [], notStarted: [] } }), /engine rolls/);
  });
});
