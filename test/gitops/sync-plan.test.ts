/** Ownership and prune decisions, table-driven, and how a sync is cut into transactions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesiredUnit } from '../../src/gitops/desired-state.js';
import { repositoryIdentity, defaultSourceName, sourceNameProblem } from '../../src/gitops/source-name.js';
import { type ClusterUnit, PlanError, changeName, planSync } from '../../src/gitops/sync-plan.js';
import { Keys } from '../../src/registry/keys.js';
import type { DesiredState, InventoryRecord } from '../../src/registry/records.js';
import { type SyncWrites, syncTxns } from '../../src/registry/sync-txns.js';
import { rolloutFits } from '../../src/gitops/sync-writes.js';
import { UnitFile } from '../../src/unit/index.js';

const A = UnitFile.parse('[Service]\nExecStart=/bin/a\n');
const B = UnitFile.parse('[Service]\nExecStart=/bin/b\n');

const unit = (name: string, file = A, desired: DesiredState = 'launched'): DesiredUnit => ({ name, file, desired, kind: 'unit', from: name });
const cluster = (name: string, file = A, desired: DesiredState = 'launched'): [string, ClusterUnit] => [name, { name, hash: file.hash(), desired, revision: 7 }];
const owned = (source: string, name: string, file = A): InventoryRecord => ({ source, unit: name, hash: file.hash(), commit: '', dirty: false, at: '' });

interface Case {
  name: string;
  tree: DesiredUnit[];
  cluster?: Array<[string, ClusterUnit]>;
  inventory?: InventoryRecord[];
  prune?: boolean;
  allowEmpty?: boolean;
  adopt?: boolean;
  /** "action unit" per change, or an error pattern. */
  expect: string[] | RegExp;
  unchanged?: string[];
  kept?: string[];
  released?: string[];
}

const CASES: Case[] = [
  { name: 'empty cluster: everything is created', tree: [unit('a.service'), unit('b.service', B)], expect: ['create a.service', 'create b.service'] },
  { name: 'owned and equal: unchanged', tree: [unit('a.service')], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], expect: [], unchanged: ['a.service'] },
  { name: 'owned, content changed: replace', tree: [unit('a.service', B)], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], expect: ['replace a.service'] },
  { name: 'owned, desired state differs: state', tree: [unit('a.service', A, 'loaded')], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], expect: ['state a.service'] },
  { name: 'made by hand: a conflict', tree: [unit('a.service')], cluster: [cluster('a.service')], expect: /a\.service exists in the cluster and no source owns it.*--adopt/ },
  { name: 'made by hand, --adopt, same content: adopt', tree: [unit('a.service')], cluster: [cluster('a.service')], adopt: true, expect: ['adopt a.service'] },
  { name: 'made by hand, --adopt, other content: replace', tree: [unit('a.service', B)], cluster: [cluster('a.service')], adopt: true, expect: ['replace a.service'] },
  { name: "another source's unit: a conflict naming both", tree: [unit('a.service')], cluster: [cluster('a.service')], inventory: [owned('other', 'a.service')], adopt: true, expect: /a\.service belongs to source other, not to s/ },
  { name: "another source's unit, gone from the cluster: still a conflict", tree: [unit('a.service')], inventory: [owned('other', 'a.service')], expect: /belongs to source other/ },
  { name: 'owned, not in the tree, no --prune: kept', tree: [unit('a.service')], cluster: [cluster('a.service'), cluster('old.service')], inventory: [owned('s', 'a.service'), owned('s', 'old.service')], expect: [], kept: ['old.service'] },
  { name: 'owned, not in the tree, --prune: destroyed', tree: [unit('a.service')], cluster: [cluster('a.service'), cluster('old.service')], inventory: [owned('s', 'a.service'), owned('s', 'old.service')], prune: true, expect: ['destroy old.service'] },
  { name: '--prune never touches a hand-made or foreign unit', tree: [], cluster: [cluster('hand.service'), cluster('theirs.service'), cluster('mine.service')], inventory: [owned('other', 'theirs.service'), owned('s', 'mine.service'), owned('s', 'x.service')], prune: true, allowEmpty: true, expect: ['destroy mine.service'], released: ['x.service'] },
  { name: 'owned, gone from cluster and tree: released', tree: [], inventory: [owned('s', 'gone.service')], expect: [], released: ['gone.service'] },
  { name: 'owned, gone from the cluster, still in the tree: created again', tree: [unit('a.service')], inventory: [owned('s', 'a.service')], expect: ['create a.service'] },
  { name: 'prune of an empty tree refuses', tree: [], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], prune: true, expect: /would destroy all 1 units of source s; pass --allow-empty/ },
  { name: 'prune of an empty tree with --allow-empty', tree: [], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], prune: true, allowEmpty: true, expect: ['destroy a.service'] },
  { name: 'an empty tree without --prune changes nothing', tree: [], cluster: [cluster('a.service')], inventory: [owned('s', 'a.service')], expect: [], kept: ['a.service'] },
  { name: 'every conflict is reported at once', tree: [unit('a.service'), unit('b.service')], cluster: [cluster('a.service'), cluster('b.service')], inventory: [owned('other', 'b.service')], expect: /a\.service exists[^]*\n.*b\.service belongs/ },
];

describe('sync plan: ownership and prune', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const run = () => planSync({ source: 's', units: c.tree, cluster: new Map(c.cluster ?? []), inventory: c.inventory ?? [], prune: c.prune ?? false, allowEmpty: c.allowEmpty ?? false, adopt: c.adopt ?? false });
      if (c.expect instanceof RegExp) {
        assert.throws(run, (err: unknown) => err instanceof PlanError && (c.expect as RegExp).test(err.message));
        return;
      }
      const plan = run();
      assert.deepEqual(plan.changes.map((x) => `${x.action} ${changeName(x)}`), c.expect);
      if (c.unchanged) assert.deepEqual(plan.unchanged, c.unchanged);
      assert.deepEqual(plan.kept, c.kept ?? []);
      assert.deepEqual(plan.released, c.released ?? []);
    });
  }

  it('a replace of content changed by hand since the last sync is marked drifted', () => {
    const plan = planSync({ source: 's', units: [unit('a.service', B)], cluster: new Map([cluster('a.service', UnitFile.parse('[Service]\nExecStart=/bin/hand\n'))]), inventory: [owned('s', 'a.service')], prune: false, allowEmpty: false, adopt: false });
    const c = plan.changes[0];
    assert.ok(c && c.action === 'replace' && c.drifted);
  });
});

describe('source names', () => {
  const ids: Array<[string | undefined, string, string]> = [
    ['https://user:token@GitHub.com:443/acme/infra.git', '/w', 'github.com/acme/infra'],
    ['git@github.com:acme/infra.git', '/w', 'github.com/acme/infra'],
    ['ssh://git@host.example:2222/acme/infra/', '/w', 'host.example/acme/infra'],
    ['file:///srv/git/infra.git', '/w', 'srv/git/infra'],
    ['/srv/git/infra.git', '/w', 'srv/git/infra'],
    [undefined, '/home/me/my units', 'home/me/my-units'],
  ];
  for (const [url, top, id] of ids) it(`${url ?? top} -> ${id}`, () => assert.equal(repositoryIdentity(url, top), id));
  it('two directories of one repository are two sources', () => {
    assert.equal(defaultSourceName('github.com/acme/infra', ''), 'github.com/acme/infra');
    assert.equal(defaultSourceName('github.com/acme/infra', 'units/prod'), 'github.com/acme/infra:units/prod');
    assert.notEqual(defaultSourceName('r', 'units/prod'), defaultSourceName('r', 'units/dev'));
  });
  it('names are validated', () => {
    for (const bad of ['', '/x', 'a//b', 'a/../b', 'a b', 'a%2Fb', `a${'x'.repeat(200)}`]) assert.ok(sourceNameProblem(bad), bad);
    for (const good of ['web', 'github.com/acme/infra:units/prod', 'a.b_c~d@e+f-g']) assert.equal(sourceNameProblem(good), undefined, good);
  });
});

describe('sync transactions', () => {
  const keys = new Keys('/p/');
  const writes = (n: number): SyncWrites => ({
    source: 'github.com/acme/infra:units',
    definition: { record: { name: 'github.com/acme/infra:units', mode: 'push', repository: 'github.com/acme/infra', path: 'units', createdAt: 't' }, revision: 0, changed: false },
    status: { record: undefined, revision: 0 },
    applied: { commit: 'a'.repeat(40), dirty: false, at: 't' },
    puts: Array.from({ length: n }, (_, i) => ({ name: `u${String(i).padStart(3, '0')}.service`, hash: A.hash(), desired: 'launched' as const, content: A.serialize(), expect: 0 })),
    deletes: [{ name: 'old.service', expect: 5 }],
    refresh: [],
    release: ['gone.service'],
  });

  it('a small sync is one transaction: units, inventory, definition and status together, content once', () => {
    const txns = syncTxns(keys, writes(3));
    assert.equal(txns.length, 1);
    const t = txns[0]!;
    const put = t.puts.map((p) => p.key);
    assert.equal(put.filter((k) => k === keys.content(A.hash())).length, 1);
    for (let i = 0; i < 3; i++) {
      assert.ok(put.includes(keys.unit(`u00${i}.service`)));
      assert.ok(put.includes(keys.inventory('github.com/acme/infra:units', `u00${i}.service`)));
    }
    assert.ok(put.includes('/p/sources/github.com%2Facme%2Finfra:units'));
    assert.ok(put.includes('/p/source-status/github.com%2Facme%2Finfra:units'));
    assert.deepEqual(t.deletes.sort(), [keys.inventory('github.com/acme/infra:units', 'gone.service'), keys.inventory('github.com/acme/infra:units', 'old.service'), keys.unit('old.service')].sort());
    assert.deepEqual(t.guards.find((g) => g.key === keys.unit('old.service')), { key: keys.unit('old.service'), revision: 5 });
  });

  it('a big sync: intent first, every unit with its inventory entry in one step, each step fenced by the intent, bounded', () => {
    const w = writes(120);
    const txns = syncTxns(keys, w, 100);
    assert.ok(txns.length >= 3);
    const [intent, ...steps] = txns;
    const statusKey = keys.sourceStatus(w.source);
    assert.deepEqual(intent!.puts.map((p) => p.key).sort(), [keys.source(w.source), statusKey].sort());
    assert.match(intent!.puts.find((p) => p.key === statusKey)!.value, /"applying":\{/);
    const seenUnits = new Set<string>();
    for (const s of steps) {
      assert.ok(s.puts.length + s.deletes.length <= 100 && s.guards.length <= 100);
      assert.deepEqual(s.guards[0], { key: statusKey, revision: 'intent' });
      for (const u of s.units) {
        seenUnits.add(u);
        const writesUnit = s.puts.some((p) => p.key === keys.unit(u)) || s.deletes.includes(keys.unit(u));
        const writesEntry = s.puts.some((p) => p.key === keys.inventory(w.source, u)) || s.deletes.includes(keys.inventory(w.source, u));
        assert.ok(writesUnit && writesEntry, `${u}: unit and inventory entry in the same step`);
      }
    }
    assert.equal(seenUnits.size, 121);
    const last = steps.at(-1)!.puts.find((p) => p.key === statusKey);
    assert.ok(last && /"applied"/.test(last.value) && !/"applying"/.test(last.value));
    // Puts come before destroys.
    const order = steps.flatMap((s) => s.units);
    assert.equal(order.at(-1), 'old.service');
  });

  it('rolled units: content and inventory now, no unit record; the rollout record goes with the applied status', () => {
    for (const [n, max] of [[3, 100], [150, 100]] as const) {
      const w: SyncWrites = {
        ...writes(n),
        rolled: [{ name: 'roll.service', hash: B.hash(), desired: 'launched', content: B.serialize(), expect: 9 }],
        rollout: { value: '{"rollout":1}', revision: 4 },
      };
      const txns = syncTxns(keys, w, max);
      const all = txns.flatMap((t) => t.puts.map((p) => p.key));
      assert.ok(!all.includes(keys.unit('roll.service')), 'the unit record waits for the driver');
      assert.ok(all.includes(keys.inventory(w.source, 'roll.service')));
      assert.ok(all.includes(keys.content(B.hash())));
      const withStatus = txns.filter((t) => t.puts.some((p) => p.key === keys.sourceStatus(w.source) && /"applied"/.test(p.value)));
      assert.equal(withStatus.length, 1);
      const done = withStatus[0]!;
      assert.ok(done.puts.some((p) => p.key === keys.rollout(w.source) && p.value === '{"rollout":1}'), `n=${n}: rollout with the applied status`);
      assert.deepEqual(done.guards.find((g) => g.key === keys.rollout(w.source)), { key: keys.rollout(w.source), revision: 4 });
      assert.deepEqual(txns.flatMap((t) => t.guards).find((g) => g.key === keys.unit('roll.service')), { key: keys.unit('roll.service'), revision: 9 });
      for (const t of txns) assert.ok(t.puts.length + t.deletes.length <= max && t.guards.length <= max);
    }
  });

  it('a rollout record that would not fit in etcd is not planned', () => {
    assert.equal(rolloutFits(Array.from({ length: 100 }, (_, i) => `web@${i}.service`)), true);
    assert.equal(rolloutFits(Array.from({ length: 3000 }, (_, i) => `${'x'.repeat(200)}${i}.service`)), false);
  });
});
