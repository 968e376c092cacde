/**
 * flotctl diff, sync, sources and source add/remove through the built
 * binary against a real etcd and real git repositories. No engine or agent
 * runs, so syncs use --no-block: what is checked here is what they write
 * (units, inventory, provenance, status) and refuse; test/cluster/sync.test.ts
 * checks what the hosts' systemd then runs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeInventory, decodeSourceStatus } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { EtcdFixture, type Space, forEachDriver } from './support/etcd-space.js';
import { cells } from './support/run.js';
import { commitAll, git } from '../support/git.js';

const WEB = '[Unit]\nDescription=web %i\n\n[Service]\n# comment\nExecStart=/bin/sleep infinity\n';
const API = '[Service]\nExecStart=/bin/sleep 100\n';
const API2 = '[Service]\nExecStart=/bin/sleep 200\n';


async function repo(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-sync-'));
  git(dir, 'init', '-q', '-b', 'main');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  for (const [name, target] of Object.entries(links)) await symlink(target, join(dir, name));
  commitAll(dir, 'units');
  return dir;
}

const commit = (dir: string): string => commitAll(dir);

describe('sync and diff against etcd', () => {
  let fx: EtcdFixture;
  const dirs: string[] = [];

  before(async () => {
    fx = await EtcdFixture.start({});
  });
  after(async () => {
    await fx.stop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  const newRepo = async (files: Record<string, string>, links: Record<string, string> = {}): Promise<string> => {
    const d = await repo(files, links);
    dirs.push(d);
    return d;
  };
  const unitFiles = async (s: Space, fields = 'unit,dstate,source,commit'): Promise<string[][]> => {
    const r = await s.run(['list-unit-files', '--no-legend', '-l', '--fields', fields]);
    assert.equal(r.code, 0, r.stderr);
    return cells(r.stdout);
  };

  forEachDriver((driver) => describe(driver, () => {
    it('diff exits 1 with changes, sync writes units, inventory and provenance in one go, diff then exits 0; cat stays byte-exact', async () => {
      const s = await fx.space(driver);
      const dir = await newRepo({ 'api.service': API, 'web@.service': WEB, 'README.md': 'x' }, { 'web@1.service': 'web@.service', 'web@2.service': 'web@.service' });
      const head = git(dir, 'rev-parse', 'HEAD');
      const name = dir.slice(1);

      const d1 = await s.run(['diff', dir]);
      assert.equal(d1.code, 1, d1.stderr);
      assert.deepEqual(d1.stdout.trim().split('\n'), [
        `source ${name} at ${head.slice(0, 12)}`,
        '+ create api.service',
        '+ create web@.service (inactive)',
        '+ create web@1.service (from web@.service)',
        '+ create web@2.service (from web@.service)',
        '4 to create, 0 unchanged',
      ]);
      assert.equal(await s.count(), 0, 'diff writes nothing');

      const r = await s.run(['sync', '--no-block', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Synced source ${name} at ${head.slice(0, 12)}: 4 changed, 0 unchanged`));
      assert.deepEqual(await unitFiles(s), [
        ['api.service', 'launched', name, head],
        ['web@.service', 'inactive', name, head],
        ['web@1.service', 'launched', name, head],
        ['web@2.service', 'launched', name, head],
      ]);
      const cat = await s.run(['cat', 'web@1.service']);
      assert.equal(cat.stdout, UnitFile.parse(WEB).serialize(), 'cat prints the unit and nothing else');

      const d2 = await s.run(['diff', dir]);
      assert.equal(d2.code, 0, d2.stdout + d2.stderr);
      assert.match(d2.stdout, /no changes, 4 unchanged/);

      const sources = await s.run(['sources', '--no-legend', '-l']);
      assert.deepEqual(cells(sources.stdout), [[name, 'push', '4', head, '-', '-']]);
    });

    it('replace shows a unified diff; state changes through flotilla.ini; --json; exit 2 on a bad tree', async () => {
      const s = await fx.space(driver);
      const dir = await newRepo({ 'api.service': API, 'job.service': API });
      assert.equal((await s.run(['sync', '--no-block', dir])).code, 0);
      await writeFile(join(dir, 'api.service'), API2);
      await writeFile(join(dir, 'flotilla.ini'), '[desired]\njob.service = loaded\n');
      commit(dir);
      const d = await s.run(['diff', dir]);
      assert.equal(d.code, 1);
      assert.match(d.stdout, /~ replace api\.service\n--- api\.service \(cluster\)\n\+\+\+ api\.service \(.*\/api\.service\)\n@@ -1,2 \+1,2 @@\n \[Service\]\n-ExecStart=\/bin\/sleep 100\n\+ExecStart=\/bin\/sleep 200\n~ state job\.service: launched -> loaded\n/);
      const j = await s.run(['--json', 'diff', dir]);
      assert.equal(j.code, 1);
      const report = JSON.parse(j.stdout) as { changes: Array<{ unit: string; action: string; diff?: string[] }>; unchanged: number };
      assert.deepEqual(report.changes.map((c) => [c.unit, c.action]), [['api.service', 'replace'], ['job.service', 'state']]);
      assert.ok(report.changes[0]?.diff?.includes('+ExecStart=/bin/sleep 200'));

      await writeFile(join(dir, 'bad.service'), '[Service]\nno equals\n');
      await symlink('/etc/passwd', join(dir, 'x@1.service'));
      const bad = await s.run(['diff', dir]);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      const lines = bad.stderr.trim().split('\n');
      assert.equal(lines.length, 2, bad.stderr);
      assert.match(lines[0] ?? '', /bad\.service: unit file line 2/);
      assert.match(lines[1] ?? '', /x@1\.service: symlink -> \/etc\/passwd points outside the directory/);
      const before = await unitFiles(s);
      const sync = await s.run(['sync', '--no-block', '--allow-dirty', dir]);
      assert.equal(sync.code, 1);
      assert.equal(sync.stderr.trim().split('\n').length, 2, 'every error, one line each, nothing else');
      assert.deepEqual(await unitFiles(s), before, 'a bad tree changes nothing');
      const down = await s.run(['--endpoint', 'http://127.0.0.1:1', 'diff', join(tmpdir(), 'no-such-dir')]);
      assert.equal(down.code, 2, 'a bad directory is refused before the store is asked');
    });

    it('prune destroys exactly what the source created; hand-made units and other sources are never touched; conflicts name both', async () => {
      const s = await fx.space(driver);
      const a = await newRepo({ 'a1.service': API, 'a2.service': API, 'shared.service': API });
      const b = await newRepo({ 'b1.service': API2 });
      const hand = await mkdtemp(join(tmpdir(), 'fl-hand-'));
      dirs.push(hand);
      await writeFile(join(hand, 'hand.service'), API);
      assert.equal((await s.run(['submit', join(hand, 'hand.service')])).code, 0);
      assert.equal((await s.run(['sync', '--no-block', a])).code, 0);
      assert.equal((await s.run(['sync', '--no-block', b])).code, 0);

      // B takes a unit A owns: refused, naming both; same for a hand-made one.
      await writeFile(join(b, 'shared.service'), API);
      await writeFile(join(b, 'hand.service'), API);
      commit(b);
      const conflict = await s.run(['sync', '--no-block', b]);
      assert.equal(conflict.code, 1);
      assert.match(conflict.stderr, new RegExp(`shared\\.service belongs to source ${a.slice(1)}, not to ${b.slice(1)}`));
      assert.match(conflict.stderr, /hand\.service exists in the cluster and no source owns it.*--adopt/);
      git(b, 'rm', '-q', 'shared.service', 'hand.service');
      commit(b);

      // A drops a2: without --prune it is kept (still owned), with --prune destroyed.
      git(a, 'rm', '-q', 'a2.service');
      commit(a);
      const keep = await s.run(['diff', a]);
      assert.equal(keep.code, 0);
      assert.match(keep.stdout, /keep a2\.service: no longer in the tree/);
      const pruned = await s.run(['sync', '--no-block', '--prune', a]);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /- destroy a2\.service/);
      assert.deepEqual((await unitFiles(s, 'unit,source')).map((r) => r.join(' ')), [
        `a1.service ${a.slice(1)}`,
        `b1.service ${b.slice(1)}`,
        'hand.service -',
        `shared.service ${a.slice(1)}`,
      ]);

      // An empty tree would destroy everything A owns: refused, then allowed.
      git(a, 'rm', '-q', 'a1.service', 'shared.service');
      commit(a);
      const empty = await s.run(['sync', '--no-block', '--prune', a]);
      assert.equal(empty.code, 1);
      assert.match(empty.stderr, /would destroy all 2 units of source .*--allow-empty/);
      assert.equal((await s.run(['sync', '--no-block', '--prune', '--allow-empty', a])).code, 0);
      assert.deepEqual((await unitFiles(s, 'unit')).flat(), ['b1.service', 'hand.service']);
    });

    it('a dirty tree is refused without --allow-dirty, and recorded as dirty with it; a second directory of the repo is a second source', async () => {
      const s = await fx.space(driver);
      const dir = await newRepo({ 'api.service': API });
      const head = git(dir, 'rev-parse', 'HEAD');
      await writeFile(join(dir, 'api.service'), API2);
      const r = await s.run(['sync', '--no-block', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`differs from its commit ${head.slice(0, 12)} \\(api\\.service\\): commit the changes, or pass --allow-dirty`));
      assert.equal(await s.count(), 0);
      assert.equal((await s.run(['sync', '--no-block', '--allow-dirty', dir])).code, 0);
      assert.deepEqual(await unitFiles(s, 'unit,commit'), [['api.service', `${head}-dirty`]]);

      // Same name, other directory: refused (it would prune the first one's units).
      const other = await newRepo({ 'x.service': API });
      const clash = await s.run(['sync', '--no-block', '--source', dir.slice(1), other]);
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /is synced from .*, not from .*pass --source NAME/);
      const plain = await mkdtemp(join(tmpdir(), 'fl-plain-'));
      dirs.push(plain);
      await writeFile(join(plain, 'p.service'), API);
      const p = await s.run(['sync', '--no-block', plain]);
      assert.match(p.stderr, /not in a git work tree.*--allow-dirty/);
    });

    it('a sync too big for one transaction: intent, steps, done; every unit owned', async () => {
      const s = await fx.space(driver);
      const files: Record<string, string> = {};
      for (let i = 0; i < 130; i++) files[`u${String(i).padStart(3, '0')}.service`] = `[Service]\nExecStart=/bin/sleep ${i + 1000}\n`;
      const dir = await newRepo(files);
      const r = await s.run(['--json', 'sync', '--no-block', dir]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { steps: number; changes: unknown[] };
      assert.ok(out.steps >= 3, `steps: ${out.steps}`);
      assert.equal(out.changes.length, 130);
      const entries = await fx.raw.getAll().prefix(s.keys.inventoryPrefix).strings();
      assert.equal(Object.values(entries).filter((v) => decodeInventory(v)).length, 130);
      const status = decodeSourceStatus((await fx.raw.get(s.keys.sourceStatus(dir.slice(1))).string()) ?? '');
      assert.ok(status?.applied && status.applying === undefined);
    });

    it('source add stores a pull definition; sources shows "-" until the engine reports; source remove forgets (--prune destroys)', async () => {
      const s = await fx.space(driver);
      const add = await s.run(['source', 'add', 'infra', 'https://example.invalid/acme/infra.git', '--branch', 'main', '--path', 'units/prod', '--interval', '30s', '--prune']);
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /Added source infra: following https:\/\/example\.invalid\/acme\/infra\.git branch main path units\/prod every 30s/);
      const list = await s.run(['sources', '--no-legend', '--fields', 'name,mode,units,commit,rollout,error,branch,path,interval,prune']);
      assert.deepEqual(cells(list.stdout), [['infra', 'pull', '0', '-', '-', '-', 'main', 'units/prod', '30s', 'true']]);
      const again = await s.run(['source', 'add', 'infra', 'https://example.invalid/x.git']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /source infra exists/);
      for (const [args, pattern] of [
        [['source', 'add', 'x', 'https://u:secret@example.invalid/x.git'], /credentials do not belong/],
        [['source', 'add', 'x', 'https://example.invalid/x.git', '--interval', '1s'], /--interval/],
        [['source', 'add', 'x', 'https://example.invalid/x.git', '--branch', 'a..b'], /--branch/],
        [['source', 'add', 'x', 'https://example.invalid/x.git', '--path', '../up'], /--path/],
        [['source', 'add', 'bad name', 'https://example.invalid/x.git'], /invalid source name/],
      ] as const) {
        const r = await s.run([...args]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, pattern);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
      // A directory synced under a pull source's name is refused.
      const dir = await newRepo({ 'api.service': API });
      const clash = await s.run(['sync', '--no-block', '--source', 'infra', dir]);
      assert.match(clash.stderr, /followed by the cluster/);
      assert.equal((await s.run(['source', 'remove', 'infra'])).code, 0);

      assert.equal((await s.run(['sync', '--no-block', dir])).code, 0);
      const kept = await s.run(['source', 'remove', dir.slice(1)]);
      assert.match(kept.stdout, /its 1 units stay in the cluster, owned by no source/);
      assert.deepEqual(await unitFiles(s, 'unit,source'), [['api.service', '-']]);
      assert.equal((await s.run(['sync', '--no-block', '--adopt', dir])).code, 0);
      const gone = await s.run(['source', 'remove', '--prune', '--no-block', dir.slice(1)]);
      assert.equal(gone.code, 0, gone.stderr);
      assert.deepEqual(await unitFiles(s, 'unit'), []);
      assert.equal((await s.run(['source', 'remove', 'nope'])).code, 1);
    });
  }));
});
