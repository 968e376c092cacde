/**
 * Pull mode's fetch against real git servers on loopback: `git daemon`
 * (git://) following two pushed commits, and an SSH server (real ssh client,
 * real host key check, real key auth) for the credential path: a known host
 * and key fetch, an unknown host key fails with one line naming the file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseTree } from '../../src/gitops/desired-state.js';
import { FetchError, branchProblem, cacheRepository, fetchSource, pruneFetchCache, sshCommand, urlProblem } from '../../src/gitops/pull.js';
import { freePorts } from '../../src/dev/ports.js';
import { type GitDaemon, PushedRepo, type SshGitServer, startGitDaemon, startSshGitServer } from './git-server.js';

const WEB = '[Service]\nExecStart=/bin/sleep infinity\n';
const API = '[Service]\nExecStart=/bin/sleep 100\n';

let daemon: GitDaemon;
let cache = '';

before(async () => {
  daemon = await startGitDaemon();
  cache = await mkdtemp(join(tmpdir(), 'fl-pull-cache-'));
});

after(async () => {
  await daemon?.stop();
  await rm(cache, { recursive: true, force: true });
  if (daemon) await rm(daemon.base, { recursive: true, force: true });
});

async function fetchError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FetchError, `not a FetchError: ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `more than one line: ${err.message}`);
    return err.message;
  }
  assert.fail('the fetch did not fail');
}

describe('fetchSource over git://', () => {
  it('follows two pushed commits, reading the source directory of each', async () => {
    const repo = await PushedRepo.create(daemon, 'two');
    const first = await repo.push({ 'units/web@.service': WEB, 'units/web@1.service': { symlink: 'web@.service' }, 'README.md': 'hi', 'other/x.service': API });
    const a = await fetchSource({ url: repo.url, branch: 'main', path: 'units' }, { cacheDir: cache });
    assert.equal(a.commit, first);
    assert.deepEqual(parseTree(a.entries, 'units').units.map((u) => [u.name, u.kind]), [['web@.service', 'template'], ['web@1.service', 'instance']]);
    const second = await repo.push({ 'units/api.service': API, 'units/web@1.service': null });
    assert.notEqual(second, first);
    const b = await fetchSource({ url: repo.url, branch: 'main', path: 'units' }, { cacheDir: cache });
    assert.equal(b.commit, second);
    assert.deepEqual(parseTree(b.entries, 'units').units.map((u) => u.name), ['api.service', 'web@.service']);
    // Unchanged remote: the same commit again.
    assert.equal((await fetchSource({ url: repo.url, branch: 'main', path: 'units' }, { cacheDir: cache })).commit, second);
    // The top of the repository is a source too: it has no unit files (directories and README are not units).
    const top = await fetchSource({ url: repo.url, branch: 'main', path: '' }, { cacheDir: cache });
    assert.deepEqual(top.entries, []);
  });

  it('another branch; a missing branch, directory or server is one line', async () => {
    const repo = await PushedRepo.create(daemon, 'branches');
    await repo.push({ 'a.service': WEB });
    const dev = await repo.push({ 'b.service': API }, 'dev');
    assert.equal((await fetchSource({ url: repo.url, branch: 'dev', path: '' }, { cacheDir: cache })).commit, dev);
    // No branch: the one the remote's HEAD names (main).
    assert.deepEqual((await fetchSource({ url: repo.url, path: '' }, { cacheDir: cache })).entries.map((e) => e.name), ['a.service']);
    assert.match(await fetchError(fetchSource({ url: repo.url, branch: 'nope', path: '' }, { cacheDir: cache })), /^cannot fetch branch nope of git:\/\/.*no such branch/);
    assert.match(await fetchError(fetchSource({ url: repo.url, branch: 'main', path: 'missing' }, { cacheDir: cache })), /has no directory "missing"/);
    const [closed] = (await freePorts(1)) as [number];
    assert.match(await fetchError(fetchSource({ url: `git://127.0.0.1:${closed}/x.git`, branch: 'main', path: '' }, { cacheDir: cache })), /^cannot fetch branch main of git:\/\/127\.0\.0\.1:\d+\/x\.git: .+/);
    assert.match(await fetchError(fetchSource({ url: daemon.url('absent'), branch: 'main', path: '' }, { cacheDir: cache })), /^cannot fetch branch main of /);
  });

  it('the fetch cache keeps the repositories of sources still followed, and only names it gave', async () => {
    const own = await mkdtemp(join(tmpdir(), 'fl-cache-'));
    try {
      const kept = await PushedRepo.create(daemon, 'kept');
      await kept.push({ 'a.service': WEB });
      const dropped = await PushedRepo.create(daemon, 'dropped');
      await dropped.push({ 'b.service': API });
      for (const r of [kept, dropped]) await fetchSource({ url: r.url, branch: 'main', path: '' }, { cacheDir: own });
      await writeFile(join(own, 'notes.txt'), 'not ours');
      assert.deepEqual(await pruneFetchCache(own, [kept.url]), [cacheRepository(own, dropped.url)]);
      assert.deepEqual((await readdir(own)).sort(), [cacheRepository(own, kept.url).slice(own.length + 1), 'notes.txt'].sort());
      // What is kept still fetches from its cache.
      assert.ok((await fetchSource({ url: kept.url, branch: 'main', path: '' }, { cacheDir: own })).commit);
      assert.deepEqual(await pruneFetchCache(join(own, 'none'), []), [], 'no cache yet');
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('a server that never answers is cut off at the time bound', async () => {
    const sockets: Socket[] = [];
    const silentServer = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silentServer.listen(0, '127.0.0.1', () => r()));
    const { port } = silentServer.address() as AddressInfo;
    const started = Date.now();
    try {
      const msg = await fetchError(fetchSource({ url: `git://127.0.0.1:${port}/x.git`, branch: 'main', path: '' }, { cacheDir: cache, timeoutMs: 500 }));
      assert.match(msg, /was stopped \(SIGTERM\) after 0\.5 s/);
      assert.ok(Date.now() - started < 10_000, 'bounded');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silentServer.close(r));
    }
  });

  it('refuses URLs and branches that are not plain, without running git', async () => {
    for (const url of ['ext::sh -c touch% /tmp/pwned', '-uhello', 'fd::17', 'gopher://x/y', 'a b', '']) assert.ok(urlProblem(url), url);
    for (const url of ['https://github.com/acme/infra.git', 'git@github.com:acme/infra.git', 'ssh://git@h:2222/r.git', '/srv/git/r.git', 'file:///srv/r.git']) assert.equal(urlProblem(url), undefined, url);
    for (const b of ['-x', 'a..b', '.hidden', 'a/.b', 'x.lock', 'a b', '']) assert.ok(branchProblem(b), b);
    for (const b of ['main', 'release/1.2', 'feature-x_y']) assert.equal(branchProblem(b), undefined, b);
    assert.match(await fetchError(fetchSource({ url: 'ext::sh -c id', branch: 'main', path: '' }, { cacheDir: cache })), /git remote helpers|white space/);
  });

  it('GIT_SSH_COMMAND offers only the given key and checks host keys strictly by default', () => {
    assert.equal(
      sshCommand({ keyFile: "/etc/flot key's", knownHostsFile: '/etc/kh' }),
      `ssh -o BatchMode=yes -o ConnectTimeout=15 -i '/etc/flot key'\\''s' -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/kh -o GlobalKnownHostsFile=/dev/null`,
    );
    assert.match(sshCommand({ hostKeyChecking: 'accept-new' }), /StrictHostKeyChecking=accept-new/);
  });
});

describe('fetchSource over ssh', () => {
  let ssh: SshGitServer;
  let keys = '';
  before(async () => {
    keys = await mkdtemp(join(tmpdir(), 'fl-pull-ssh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'id')]);
    ssh = await startSshGitServer(daemon.base, await readFile(join(keys, 'id.pub'), 'utf8'));
    await writeFile(join(keys, 'known_hosts'), `${ssh.knownHostsLine}\n`);
    await writeFile(join(keys, 'empty_known_hosts'), '');
  });
  after(async () => {
    await ssh?.stop();
    await rm(keys, { recursive: true, force: true });
  });

  it('fetches with the given key from a host in known_hosts', async () => {
    const repo = await PushedRepo.create(daemon, 'over-ssh');
    const id = await repo.push({ 'web.service': WEB });
    const got = await fetchSource({ url: ssh.url('over-ssh'), branch: 'main', path: '' }, { cacheDir: cache, ssh: { keyFile: join(keys, 'id'), knownHostsFile: join(keys, 'known_hosts') } });
    assert.equal(got.commit, id);
    assert.deepEqual(got.entries.map((e) => e.name), ['web.service']);
  });

  it('an unknown host key fails, naming the known_hosts file; another key is refused', async () => {
    const repo = await PushedRepo.create(daemon, 'strict');
    await repo.push({ 'web.service': WEB });
    const kh = join(keys, 'empty_known_hosts');
    const msg = await fetchError(fetchSource({ url: ssh.url('strict'), branch: 'main', path: '' }, { cacheDir: cache, ssh: { keyFile: join(keys, 'id'), knownHostsFile: kh } }));
    assert.match(msg, /No ED25519 host key is known|Host key verification failed/i);
    assert.ok(msg.includes(kh), msg);
    assert.equal(await readFile(kh, 'utf8'), '', 'strict checking learns nothing');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'other')]);
    const refused = await fetchError(fetchSource({ url: ssh.url('strict'), branch: 'main', path: '' }, { cacheDir: cache, ssh: { keyFile: join(keys, 'other'), knownHostsFile: join(keys, 'known_hosts') } }));
    assert.match(refused, /Permission denied/i);
  });
});
