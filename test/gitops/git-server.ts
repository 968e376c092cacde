/**
 * Real git servers on loopback for the pull-mode tests: `git daemon` serving
 * bare repositories over git://, and a work tree whose commits are pushed to
 * one. Waits on the port with a deadline, never a sleep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { freePorts } from '../../src/dev/ports.js';
import { commitAll, git } from '../support/git.js';
import { after, before } from 'node:test';

export interface GitDaemon {
  /** git://127.0.0.1:PORT/<name>.git */
  url(name: string): string;
  /** Directory holding the bare repositories. */
  base: string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startGitDaemon(): Promise<GitDaemon> {
  const base = await mkdtemp(join(tmpdir(), 'fl-gitd-'));
  const [port] = (await freePorts(1)) as [number];
  const child: ChildProcess = spawn('git', ['daemon', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', base], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => void (exited = true));
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(port))) {
    if (exited) throw new Error(`git daemon exited before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`git daemon not listening on ${port} within 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    base,
    url: (name) => `git://127.0.0.1:${port}/${name}.git`,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A bare repository `name` served by the daemon, and a work tree that pushes to it. */
export class PushedRepo {
  private constructor(
    readonly work: string,
    readonly url: string,
  ) {}

  static async create(daemon: GitDaemon, name: string, branch = 'main'): Promise<PushedRepo> {
    const bare = join(daemon.base, `${name}.git`);
    await mkdir(bare, { recursive: true });
    git(bare, 'init', '-q', '--bare', `--initial-branch=${branch}`);
    const work = await mkdtemp(join(tmpdir(), 'fl-push-'));
    git(work, 'init', '-q', `--initial-branch=${branch}`);
    git(work, 'remote', 'add', 'origin', bare);
    return new PushedRepo(work, daemon.url(name));
  }

  /** Writes the files (relative paths; null removes one, {symlink} makes a link), commits, pushes; the new commit. */
  async push(files: Record<string, string | null | { symlink: string }>, branch = 'main'): Promise<string> {
    for (const [rel, text] of Object.entries(files)) {
      const p = join(this.work, rel);
      await rm(p, { force: true });
      if (text === null) continue;
      await mkdir(join(p, '..'), { recursive: true });
      if (typeof text === 'string') await writeFile(p, text);
      else await symlink(text.symlink, p);
    }
    const id = commitAll(this.work, `commit ${Date.now()}`);
    git(this.work, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
    return id;
  }
}

/**
 * An SSH git server (ssh2's server, running git-upload-pack for the client's
 * exec request) on loopback: a real ssh client, a real host key and a real
 * key check, without a system sshd.
 */
export interface SshGitServer {
  port: number;
  /** known_hosts line for this server. */
  knownHostsLine: string;
  url(name: string): string;
  stop(): Promise<void>;
}

export async function startSshGitServer(base: string, clientPublicKey: string): Promise<SshGitServer> {
  const host = ssh2.utils.generateKeyPairSync('ed25519');
  const allowed = ssh2.utils.parseKey(clientPublicKey);
  if (allowed instanceof Error) throw allowed;
  const server = new ssh2.Server({ hostKeys: [host.private] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('error', () => undefined);
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, reject, info) => {
        const m = /^git-upload-pack '\/?([A-Za-z0-9._-]+)'$/.exec(info.command);
        if (!m) return reject();
        const stream = acceptExec();
        const child = spawn('git-upload-pack', [join(base, m[1] as string)], { stdio: ['pipe', 'pipe', 'pipe'] });
        stream.pipe(child.stdin);
        child.stdout.pipe(stream, { end: false });
        child.stderr.pipe(stream.stderr);
        child.on('close', (code) => {
          stream.exit(code ?? 1);
          stream.end();
        });
      });
    });
  });
  const [port] = (await freePorts(1)) as [number];
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    knownHostsLine: `[127.0.0.1]:${port} ${host.public.trim()}`,
    url: (name) => `ssh://git@127.0.0.1:${port}/${name}.git`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A git daemon for a test file: started by a `before` hook, stopped and its
 * repositories removed by an `after` hook. Valid inside tests.
 */
export function gitDaemonForTests(): () => GitDaemon {
  let daemon: GitDaemon | undefined;
  before(async () => {
    daemon = await startGitDaemon();
  });
  after(async () => {
    await daemon?.stop();
    if (daemon) await rm(daemon.base, { recursive: true, force: true });
  });
  return () => {
    if (!daemon) throw new Error('gitDaemonForTests: used before its before hook ran');
    return daemon;
  };
}
