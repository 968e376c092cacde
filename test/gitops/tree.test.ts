/**
 * The tree reader on real directories (temp dirs with real files and
 * symlinks, and a real git repository for the commit reader): what becomes a
 * desired state, what is ignored, and every error case, one line each.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TreeError, parseTree } from '../../src/gitops/desired-state.js';
import { changedSourceFiles, readCommitTree, resolveCommit, workTreeOf } from '../../src/gitops/git.js';
import { readSourceDir } from '../../src/gitops/source-dir.js';
import { readWorkTree } from '../../src/gitops/work-tree.js';
import { commitAll, git } from '../support/git.js';

const WEB = '[Unit]\nDescription=web %i\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const API = '[Service]\nExecStart=/bin/sleep 100\n';
const GLOBAL = '[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nGlobal=true\n';

async function tree(files: Record<string, string>, links: Record<string, string> = {}, dirs: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-tree-'));
  for (const d of dirs) await mkdir(join(dir, d), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  for (const [name, target] of Object.entries(links)) await symlink(target, join(dir, name));
  return dir;
}

async function parse(dir: string) {
  return parseTree(await readWorkTree(dir), 'units');
}

async function errorsOf(dir: string): Promise<string[]> {
  try {
    await parse(dir);
  } catch (err) {
    assert.ok(err instanceof TreeError, String(err));
    return [...err.lines];
  }
  assert.fail('no error');
}


describe('a directory as a desired state', () => {
  it('units, a template with instance symlinks, a global unit; everything else ignored', async () => {
    const dir = await tree(
      { 'api.service': API, 'web@.service': WEB, 'global.service': GLOBAL, 'README.md': '# hi', '.hidden.service': API, 'notes.txt': 'x' },
      { 'web@1.service': 'web@.service', 'web@2.service': './web@.service', 'web@3.service': 'web@.service', 'docs': '/etc', '.#api.service': 'root@host.123' },
      ['.git', 'sub'],
    );
    await writeFile(join(dir, 'sub', 'x.service'), API);
    const t = await parse(dir);
    assert.deepEqual(t.units.map((u) => [u.name, u.kind, u.desired, u.from]), [
      ['api.service', 'unit', 'launched', 'api.service'],
      ['global.service', 'unit', 'launched', 'global.service'],
      ['web@.service', 'template', 'inactive', 'web@.service'],
      ['web@1.service', 'instance', 'launched', 'web@.service'],
      ['web@2.service', 'instance', 'launched', 'web@.service'],
      ['web@3.service', 'instance', 'launched', 'web@.service'],
    ]);
    const hashes = new Set(t.units.filter((u) => u.name.startsWith('web@')).map((u) => u.file.hash()));
    assert.equal(hashes.size, 1, 'instances have their template content');
  });

  it('flotilla.ini makes units loaded or inactive', async () => {
    const dir = await tree(
      { 'api.service': API, 'web@.service': WEB, 'flotilla.ini': '# states\n[desired]\nweb@2.service = loaded ; comment\napi.service=inactive\n' },
      { 'web@1.service': 'web@.service', 'web@2.service': 'web@.service' },
    );
    const t = await parse(dir);
    assert.deepEqual(Object.fromEntries(t.units.map((u) => [u.name, u.desired])), {
      'api.service': 'inactive',
      'web@.service': 'inactive',
      'web@1.service': 'launched',
      'web@2.service': 'loaded',
    });
  });

  it('every error, one line each naming its file, and nothing else', async () => {
    const outside = await tree({ 'x.service': API });
    const dir = await tree(
      {
        'bad.service': '[Service]\nExecStart=/bin/true\nno equals sign here\n',
        'bad*name.service': API,
        'web@.service': WEB,
        'conflict.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nOnDisconnect=maybe\n',
        'flotilla.ini': '[desired]\nghost.service = loaded\nweb@.service = launched\nweb@1.service = running\n[other]\n',
      },
      {
        'web@1.service': 'web@.service',
        'out@1.service': join(outside, 'x.service'),
        'up@1.service': '../x.service',
        'alias.service': 'bad.service',
        'miss@1.service': 'miss@.service',
        'wrong@1.service': 'web@.service',
      },
      ['api.service.d', 'api.service.wants', 'dir.service'],
    );
    const lines = await errorsOf(dir);
    const expect: Array<[string, RegExp]> = [
      ['units/alias.service', /only instances may be symlinks/],
      ['units/api.service.d', /drop-in directories are not supported.*api\.service/],
      ['units/api.service.wants', /wants directories are not supported/],
      ['units/bad*name.service', /invalid character/],
      ['units/bad.service', /line 3/],
      ['units/conflict.service', /OnDisconnect=maybe is invalid/],
      ['units/dir.service', /is a directory/],
      ['units/flotilla.ini', /ghost\.service is not a unit of this directory/],
      ['units/flotilla.ini', /web@\.service is a template/],
      ['units/flotilla.ini', /unknown state "running"/],
      ['units/flotilla.ini', /unknown section \[other\]/],
      ['units/miss@1.service', /missing template: add miss@\.service/],
      ['units/out@1.service', /points outside the directory/],
      ['units/up@1.service', /points outside the directory/],
      ['units/wrong@1.service', /its own template wrong@\.service/],
    ];
    assert.equal(lines.length, expect.length, lines.join('\n'));
    for (const [file, pattern] of expect) {
      assert.ok(lines.some((l) => l.startsWith(`${file}: `) && pattern.test(l)), `no line for ${file} matching ${pattern}:\n${lines.join('\n')}`);
    }
    assert.ok(lines.every((l) => !l.includes('\n')));
  });

  it('bounded: entry count, file size; FIFOs are refused without blocking', async () => {
    const many = await tree(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`u${i}.service`, API])));
    const small = { entries: 20, units: 10, fileBytes: 1024, totalBytes: 4096 };
    await assert.rejects(readWorkTree(many, small), /more than 20 entries/);
    const big = await tree({ 'big.service': `[Service]\nExecStart=/bin/true\nEnvironment=X=${'a'.repeat(3000)}\n`, 'ok.service': API });
    const entries = await readWorkTree(big, small);
    assert.match(JSON.stringify(entries.find((e) => e.name === 'big.service')), /more than the 1024/);
    assert.deepEqual(parseTree(entries.filter((e) => e.name === 'ok.service'), 'units').units.map((u) => u.name), ['ok.service']);
    assert.throws(() => parseTree(Array.from({ length: 10_001 }, (_, i) => ({ name: `u${i}.service`, kind: 'file' as const, text: API })), 'units'), /10001 units, more than the 10000/);
    const fifo = await tree({});
    execFileSync('mkfifo', [join(fifo, 'pipe.service')]);
    const lines = await errorsOf(fifo);
    assert.deepEqual(lines, ['units/pipe.service: is a FIFO, not a regular file']);
  });

  it('a git work tree: commit, sub-path and dirty state limited to the files that matter; a commit reads the same', async () => {
    const repo = await tree({ 'README.md': 'top' }, {}, ['units/prod', 'units/dev']);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'remote', 'add', 'origin', 'https://user:secret@GitHub.com/acme/infra.git');
    await writeFile(join(repo, 'units/prod/web@.service'), WEB);
    await symlink('web@.service', join(repo, 'units/prod/web@1.service'));
    await writeFile(join(repo, 'units/prod/README.md'), 'docs');
    await writeFile(join(repo, 'units/dev/api.service'), API);
    const head = commitAll(repo, 'units');

    const prod = join(repo, 'units/prod');
    const { origin } = await readSourceDir(prod);
    assert.deepEqual({ ...origin, dir: '' }, {
      dir: '', git: true, repository: 'github.com/acme/infra', path: 'units/prod', defaultName: 'github.com/acme/infra:units/prod', commit: head, dirty: false, changed: [],
    });
    // A README edit, and a change in another source's directory, do not make this one dirty.
    await writeFile(join(prod, 'README.md'), 'more docs');
    await writeFile(join(repo, 'units/dev/api.service'), WEB);
    assert.equal((await readSourceDir(prod)).origin.dirty, false);
    // A new unit file, a changed one, or an ignored one that would be read, do.
    await writeFile(join(prod, 'new.service'), API);
    await writeFile(join(prod, '.gitignore'), 'secret.service\n');
    await writeFile(join(prod, 'secret.service'), API);
    await writeFile(join(prod, 'web@.service'), API);
    const tree1 = await workTreeOf(prod);
    assert.ok(tree1);
    assert.deepEqual(await changedSourceFiles(tree1), ['new.service', 'secret.service', 'web@.service']);

    // The commit, read from a bare clone, parses to what the clean work tree had.
    const bare = await mkdtemp(join(tmpdir(), 'fl-bare-'));
    git(bare, 'clone', '-q', '--bare', repo, '.');
    const commit = await resolveCommit(bare, 'main');
    assert.equal(commit, head);
    const fromCommit = parseTree(await readCommitTree(bare, commit, 'units/prod'), 'main:units/prod');
    assert.deepEqual(fromCommit.units.map((u) => [u.name, u.kind, u.file.hash()]), [
      ['web@.service', 'template', fromCommit.units[0]?.file.hash()],
      ['web@1.service', 'instance', fromCommit.units[0]?.file.hash()],
    ]);
    await assert.rejects(readCommitTree(bare, commit, 'nope'), /has no directory "nope"/);
  });

  it('a plain directory has no commit and counts as dirty; a missing one is one line', async () => {
    const dir = await tree({ 'api.service': API });
    const { origin } = await readSourceDir(dir);
    assert.equal(origin.git, false);
    assert.equal(origin.commit, '');
    assert.equal(origin.dirty, true);
    assert.equal(origin.defaultName, dir.slice(1));
    await assert.rejects(readSourceDir(join(dir, 'nope')), /cannot read directory .*nope: no such directory/);
  });
});
