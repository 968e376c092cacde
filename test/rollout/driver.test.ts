/**
 * The rollout driver: its decisions (pure, table-driven: reconcile with the
 * cluster, health over hosts, pacing, the per-pass cap, revert writes) and
 * passes against a real etcd: units replaced one at a time as hosts report
 * health, the record resumed from etcd alone by a second "engine", a stale
 * fence writes nothing, a failure with auto-revert puts the previous content back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { type RolloutRecord, type UnitStateRecord, decodeRollout, encode } from '../../src/registry/records.js';
import type { ClusterUnitRecord } from '../../src/registry/rollout-store.js';
import { RolloutStore } from '../../src/registry/rollout-store.js';
import { Keys } from '../../src/registry/keys.js';
import { summarizeRollout } from '../../src/registry/source-store.js';
import { connectStore } from '../../src/registry/store.js';
import { type Condition, commitTxn, read, when } from '../../src/registry/txn.js';
import type { HealthTraits } from '../../src/rollout/health.js';
import { FAILED_SETTLE_MS } from '../../src/rollout/step.js';
import { type DriverDeps, STARTS_PER_PASS, decidePass, driveRollout, driveRollouts, observedHealth } from '../../src/rollout/driver.js';
import { UnitFile } from '../../src/unit/index.js';

const NEW = 'a'.repeat(40);
const OLD = 'b'.repeat(40);
const OTHER = 'c'.repeat(40);
const M1 = '1'.repeat(32);
const M2 = '2'.repeat(32);
const SERVICE: HealthTraits = { type: 'service', oneshot: false, remainAfterExit: false };
const opts = { maxParallel: 1, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: true };

const state = (unit: string, hash: string, active: string, machineId = M1, extra: Partial<UnitStateRecord> = {}): UnitStateRecord => ({
  unit, machineId, hash, load: 'loaded', active, sub: active === 'active' ? 'running' : 'dead', applied: 'launched', ...extra,
});
const rec = (units: RolloutRecord['units'], o = opts): RolloutRecord => ({ source: 's', commit: '', opts: o, state: 'running', units });
const cu = (hash: string, revision = 5): ClusterUnitRecord => ({ hash, desired: 'launched', revision });

describe('observedHealth', () => {
  const t: Array<[string, UnitStateRecord[], Health]> = [
    ['no host reports yet', [], 'pending'],
    ['a host still on the old content', [state('a', NEW, 'active'), state('a', OLD, 'active', M2)], 'pending'],
    ['every host active on the new content', [state('a', NEW, 'active'), state('a', NEW, 'active', M2)], 'healthy'],
    ['one host failed', [state('a', NEW, 'active'), state('a', NEW, 'failed', M2)], 'failed'],
    ["the agent could not carry it out", [state('a', NEW, 'inactive', M1, { failure: 'ExecStartPre=/bin/false exited with status 1' })], 'failed'],
  ];
  for (const [name, states, want] of t) it(name, () => assert.equal(observedHealth(states, NEW, 'launched', SERVICE), want));
  it('loaded units are healthy once loaded; inactive at once; unknown traits pending', () => {
    assert.equal(observedHealth([state('a', NEW, 'inactive')], NEW, 'loaded', SERVICE), 'healthy');
    assert.equal(observedHealth([], NEW, 'inactive', SERVICE), 'healthy');
    assert.equal(observedHealth([state('a', NEW, 'active')], NEW, 'launched', undefined), 'pending');
  });
});
type Health = 'healthy' | 'pending' | 'failed';

describe('decidePass', () => {
  it('starts the first unit: writes its new content conditioned on the revision read', () => {
    const d = decidePass({ record: rec([{ name: 'a.service', hash: NEW, previousHash: OLD, phase: 'pending' }, { name: 'b.service', hash: NEW, previousHash: OLD, phase: 'pending' }]), units: new Map([['a.service', cu(OLD, 7)], ['b.service', cu(OLD, 8)]]), states: new Map(), traits: new Map(), now: 100 });
    assert.deepEqual(d.writes, [{ unit: 'a.service', hash: NEW, desired: 'launched', expect: 7 }]);
    assert.deepEqual(d.record.units.map((u) => u.phase), ['inflight', 'pending']);
    assert.equal(d.changed, true);
    assert.equal(d.wakeAt, 100 + 1000, 'polls while running');
  });

  it('healthy for min-healthy-time: the next unit goes', () => {
    const d = decidePass({
      record: rec([{ name: 'a.service', hash: NEW, previousHash: OLD, phase: 'inflight', startedAt: 0, healthySince: 1000 }, { name: 'b.service', hash: NEW, previousHash: OLD, phase: 'pending' }]),
      units: new Map([['a.service', cu(NEW)], ['b.service', cu(OLD, 9)]]),
      states: new Map([['a.service', [state('a.service', NEW, 'active')]]]),
      traits: new Map([[NEW, SERVICE]]),
      now: 11_000,
    });
    assert.deepEqual(d.record.units.map((u) => u.phase), ['done', 'inflight']);
    assert.deepEqual(d.writes.map((w) => w.unit), ['b.service']);
  });

  it('nothing new: no write', () => {
    const r = rec([{ name: 'a.service', hash: NEW, previousHash: OLD, phase: 'inflight', startedAt: 0 }]);
    const d = decidePass({ record: r, units: new Map([['a.service', cu(NEW)]]), states: new Map(), traits: new Map([[NEW, SERVICE]]), now: 5 });
    assert.equal(d.changed, false);
    assert.deepEqual(d.writes, []);
  });

  it('a failure with auto-revert writes the previous content back and ends the rollout', () => {
    const d = decidePass({
      record: rec([{ name: 'a.service', hash: NEW, previousHash: OLD, phase: 'inflight', startedAt: 0 }, { name: 'b.service', hash: NEW, previousHash: OLD, phase: 'pending' }]),
      units: new Map([['a.service', cu(NEW, 11)], ['b.service', cu(OLD)]]),
      states: new Map([['a.service', [state('a.service', NEW, 'failed')]]]),
      traits: new Map([[NEW, SERVICE]]),
      now: FAILED_SETTLE_MS,
    });
    assert.equal(d.record.state, 'failed');
    assert.deepEqual(d.writes, [{ unit: 'a.service', hash: OLD, desired: 'launched', expect: 11 }]);
    assert.match(d.record.error ?? '', /^a\.service: failed to start/);
    assert.equal(d.wakeAt, undefined);
  });

  it('reconciles with the cluster: destroyed, replaced by someone else, reverted by a cut pass', () => {
    const d = decidePass({
      record: rec([
        { name: 'gone.service', hash: NEW, previousHash: OLD, phase: 'pending' },
        { name: 'theirs.service', hash: NEW, previousHash: OLD, phase: 'pending' },
        { name: 'back.service', hash: NEW, previousHash: OLD, phase: 'inflight', startedAt: 0 },
        { name: 'next.service', hash: NEW, previousHash: OLD, phase: 'pending' },
      ]),
      units: new Map([['theirs.service', cu(OTHER)], ['back.service', cu(OLD)], ['next.service', cu(OLD, 3)]]),
      states: new Map(),
      traits: new Map(),
      now: 1,
    });
    assert.deepEqual(d.record.units.map((u) => [u.name, u.phase]), [['gone.service', 'done'], ['theirs.service', 'done'], ['back.service', 'reverted'], ['next.service', 'inflight']]);
    assert.deepEqual(d.writes.map((w) => w.unit), ['next.service']);
  });

  it('starts at most STARTS_PER_PASS units per pass, the rest at once on the next', () => {
    const names = Array.from({ length: STARTS_PER_PASS + 10 }, (_, i) => `u${String(i).padStart(3, '0')}.service`);
    const d = decidePass({ record: rec(names.map((name) => ({ name, hash: NEW, previousHash: OLD, phase: 'pending' })), { ...opts, maxParallel: 1000 }), units: new Map(names.map((n) => [n, cu(OLD)])), states: new Map(), traits: new Map(), now: 7 });
    assert.equal(d.writes.length, STARTS_PER_PASS);
    assert.equal(d.record.units.filter((u) => u.phase === 'inflight').length, STARTS_PER_PASS);
    assert.equal(d.wakeAt, 7);
  });
});

describe('the rollout record', () => {
  it('decodes strictly: bad hashes, phases, names, duplicates and numbers are refused', () => {
    const good = rec([{ name: 'a.service', hash: NEW, previousHash: OLD, phase: 'inflight', startedAt: 1, healthySince: 2 }]);
    assert.deepEqual(decodeRollout(encode(good)), good);
    const bad = [
      { ...good, units: [{ ...good.units[0], hash: 'x' }] },
      { ...good, units: [{ ...good.units[0], phase: 'flying' }] },
      { ...good, units: [{ ...good.units[0], name: '../etc/passwd' }] },
      { ...good, units: [good.units[0], good.units[0]] },
      { ...good, units: [{ ...good.units[0], startedAt: -1 }] },
      { ...good, opts: { ...opts, maxParallel: 0 } },
      { ...good, opts: { ...opts, healthyDeadlineMs: 2 ** 40 } },
      { ...good, state: 'exploded' },
      { ...good, commit: 'zz' },
    ];
    for (const b of bad) assert.equal(decodeRollout(JSON.stringify(b)), undefined, JSON.stringify(b).slice(0, 200));
    assert.equal(decodeRollout('not json'), undefined);
  });
  it('summarised for flotctl sources: running, succeeded, failed or reverted, with the unit it stopped on', () => {
    const u = (name: string, phase: RolloutRecord['units'][number]['phase']) => ({ name, hash: NEW, previousHash: OLD, phase, startedAt: 1000 });
    assert.deepEqual(summarizeRollout(rec([u('a.service', 'done'), u('b.service', 'inflight')])), { state: 'running', commit: '', done: 1, total: 2, at: new Date(1000).toISOString() });
    assert.equal(summarizeRollout({ ...rec([u('a.service', 'done')]), state: 'done' }).state, 'succeeded');
    const failed = summarizeRollout({ ...rec([u('a.service', 'done'), u('b.service', 'failed'), u('c.service', 'pending')]), state: 'failed' });
    assert.deepEqual([failed.state, failed.unit], ['failed', 'b.service']);
    assert.deepEqual(((r) => [r.state, r.unit])(summarizeRollout({ ...rec([u('b.service', 'reverted')]), state: 'failed' })), ['reverted', 'b.service']);
  });
  it('its key parses back to the source', () => {
    const k = new Keys('/p/');
    assert.equal(k.rolloutOfKey(k.rollout('github.com/acme/infra:units')), 'github.com/acme/infra:units');
    assert.equal(k.rolloutOfKey(k.source('a')), undefined);
  });
});

describe('driving a rollout in etcd', () => {
  let dir = '';
  let etcd: EtcdCluster;
  let client: Etcd3;
  let n = 0;
  const silent = { info: () => undefined, warn: () => undefined };
  const OLD_TEXT = '[Service]\nExecStart=/bin/sleep 100\n';
  const NEW_TEXT = '[Service]\nExecStart=/bin/sleep 200\n';
  const oldHash = UnitFile.parse(OLD_TEXT).hash();
  const newHash = UnitFile.parse(NEW_TEXT).hash();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-rollout-'));
    etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
    client = connectStore({ endpoints: etcd.endpoints });
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function setup(autoRevert: boolean): Promise<{ store: RolloutStore; k: Keys; deps: DriverDeps; fenceKey: string }> {
    const prefix = `/rollout-${++n}/`;
    const store = new RolloutStore(client, prefix);
    const k = store.keys;
    const fenceKey = k.candidate('1');
    const put = await commitTxn(client, {
      writes: [
        { op: 'put', key: fenceKey, value: 'leader' },
        { op: 'put', key: k.content(oldHash), value: UnitFile.parse(OLD_TEXT).serialize() },
        { op: 'put', key: k.content(newHash), value: UnitFile.parse(NEW_TEXT).serialize() },
        ...['a.service', 'b.service'].map((u) => ({ op: 'put' as const, key: k.unit(u), value: encode({ name: u, hash: oldHash, desired: 'launched' }) })),
      ],
    });
    const fence: Condition[] = [when.createdAt(fenceKey, put.revision)];
    const record: RolloutRecord = {
      source: 'src', commit: '', opts: { maxParallel: 1, minHealthyMs: 1000, healthyDeadlineMs: 60_000, autoRevert }, state: 'running',
      units: ['a.service', 'b.service'].map((name) => ({ name, hash: newHash, previousHash: oldHash, phase: 'pending' as const })),
    };
    assert.equal(await store.start(record, 0, fence), true);
    assert.equal(await store.start(record, 0, fence), false, 'a second start must not replace a running one unseen');
    return { store, k, fenceKey, deps: { store, fence: () => fence, log: silent } };
  }

  async function hashOf(k: Keys, unit: string): Promise<string | undefined> {
    const kv = (await commitTxn(client, { reads: [read.get(k.unit(unit))] })).reads[0]?.[0];
    return kv ? (JSON.parse(kv.value) as { hash: string }).hash : undefined;
  }
  async function report(k: Keys, unit: string, hash: string, active: string): Promise<void> {
    await commitTxn(client, { writes: [{ op: 'put', key: k.state(unit, M1), value: encode(state(unit, hash, active)) }] });
  }

  it('replaces one unit at a time as hosts report health; a second engine resumes from the record', async () => {
    const { store, k, deps } = await setup(false);
    let r = await driveRollout(deps, 'src', 0);
    assert.equal(r.outcome, 'stepped');
    assert.equal(await hashOf(k, 'a.service'), newHash);
    assert.equal(await hashOf(k, 'b.service'), oldHash, 'max-parallel 1: b waits');
    assert.equal((await driveRollout(deps, 'src', 100)).outcome, 'idle', 'no report yet: nothing to write');
    await report(k, 'a.service', newHash, 'active');
    await driveRollout(deps, 'src', 200);
    assert.equal(await hashOf(k, 'b.service'), oldHash, 'healthy, but not for min-healthy-time yet');
    assert.deepEqual((await driveRollouts(deps, 300)).inflight, ['a.service'], 'the unit waited on, for the leader to watch');
    // A new leader: nothing shared but etcd.
    const other: DriverDeps = { ...deps, store: new RolloutStore(client, k.prefix) };
    r = await driveRollout(other, 'src', 1200);
    assert.equal(await hashOf(k, 'b.service'), newHash);
    await report(k, 'b.service', newHash, 'active');
    await driveRollout(other, 'src', 1300);
    const { nextWakeAt, inflight } = await driveRollouts(other, 2300);
    assert.equal(nextWakeAt, undefined);
    assert.deepEqual(inflight, []);
    const done = await store.read('src');
    assert.equal(done?.record?.state, 'done');
    assert.deepEqual(done?.record?.units.map((u) => u.phase), ['done', 'done']);
  });

  it('a stale fence writes nothing', async () => {
    const { k, deps, fenceKey } = await setup(false);
    const stale: Condition[] = [when.createdAt(fenceKey, 1)];
    const before = (await commitTxn(client, { reads: [read.get('/none')] })).revision;
    assert.equal((await driveRollout({ ...deps, fence: () => stale }, 'src', 0)).outcome, 'refused');
    assert.equal((await commitTxn(client, { reads: [read.get('/none')] })).revision, before);
    assert.equal(await hashOf(k, 'a.service'), oldHash);
  });

  it('a unit that fails with auto-revert gets its previous content back and the rollout stops', async () => {
    const { store, k, deps } = await setup(true);
    await driveRollout(deps, 'src', 0);
    await report(k, 'a.service', newHash, 'failed');
    assert.equal((await driveRollout(deps, 'src', 10)).record?.state, 'running', 'a failure this soon may be the old content\'s state');
    const r = await driveRollout(deps, 'src', FAILED_SETTLE_MS);
    assert.equal(r.record?.state, 'failed');
    assert.equal(await hashOf(k, 'a.service'), oldHash);
    assert.equal(await hashOf(k, 'b.service'), oldHash, 'b never started');
    assert.match((await store.read('src'))?.record?.error ?? '', /a\.service: failed to start; rollout stopped, previous content put back/);
  });

  it('a global unit: its hosts read from their states and recorded a pass before its content, then one host at a time', async () => {
    const prefix = `/rollout-${++n}/`;
    const store = new RolloutStore(client, prefix);
    const k = store.keys;
    const G_OLD = `${OLD_TEXT}[X-Fleet]\nGlobal=true\n`;
    const G_NEW = `${NEW_TEXT}[X-Fleet]\nGlobal=true\n`;
    const [gOld, gNew] = [G_OLD, G_NEW].map((t) => UnitFile.parse(t).hash()) as [string, string];
    const hosts = [M1, M2];
    const reportOn = (m: string, hash: string) => commitTxn(client, { writes: [{ op: 'put', key: k.state('g.service', m), value: encode(state('g.service', hash, 'active', m)) }] });
    await commitTxn(client, {
      writes: [
        { op: 'put', key: k.content(gOld), value: UnitFile.parse(G_OLD).serialize() },
        { op: 'put', key: k.content(gNew), value: UnitFile.parse(G_NEW).serialize() },
        { op: 'put', key: k.unit('g.service'), value: encode({ name: 'g.service', hash: gOld, desired: 'launched' }) },
      ],
    });
    for (const m of hosts) await reportOn(m, gOld);
    const record: RolloutRecord = { source: 'src', commit: '', opts: { maxParallel: 1, minHealthyMs: 1000, healthyDeadlineMs: 60_000, autoRevert: false }, state: 'running', units: [{ name: 'g.service', hash: gNew, previousHash: gOld, phase: 'pending' }] };
    assert.equal(await store.start(record, 0), true);
    const deps: DriverDeps = { store, fence: () => [], log: silent };
    const hostPhases = async () => ((await store.read('src'))?.record?.units[0]?.hosts ?? []).map((h) => h.phase);
    let r = await driveRollout(deps, 'src', 0);
    assert.equal(r.wakeAt, 0, 'the next pass at once');
    assert.deepEqual(await hostPhases(), ['pending', 'pending']);
    assert.equal(await hashOf(k, 'g.service'), gOld, 'the unit record waits for the host list to be committed');
    await driveRollout(deps, 'src', 1);
    assert.equal(await hashOf(k, 'g.service'), gNew);
    assert.deepEqual(await hostPhases(), ['inflight', 'pending']);
    await reportOn(M1, gNew);
    await driveRollout(deps, 'src', 2);
    r = await driveRollout(deps, 'src', 1002);
    assert.deepEqual(await hostPhases(), ['done', 'inflight']);
    await reportOn(M2, gNew);
    await driveRollout(deps, 'src', 1003);
    r = await driveRollout(deps, 'src', 2003);
    assert.equal(r.record?.state, 'done');
    assert.deepEqual(await hostPhases(), ['done', 'done']);
  });
});
