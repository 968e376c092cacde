/**
 * Pull mode's fetch: one branch of a repository, fetched with the git program
 * into a bare cache repository on this host, then the source's directory of
 * the fetched commit read into tree entries (git.ts), the same ones a work
 * tree on disk gives the parser.
 *
 * Credentials stay on the host: the caller names an SSH key file and a
 * known_hosts file (from flotillad's config), and host keys are checked
 * strictly unless the caller says otherwise. Only ssh, https, http, git and file
 * URLs are fetched (never git's ext:: or fd:: transports, which run
 * commands). Every git call is bounded in time and output. Any failure is a
 * FetchError with one line naming the source and the fix; nothing is
 * changed but the cache.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError, errorMessage } from '../util/errors.js';
import { GitError, type GitResult, readCommitTree, runGit } from './git.js';
import type { TreeEntry } from './tree.js';

/** A fetch (or the read after it) failed; `message` is one line. */
export class FetchError extends FlotillaError {
  constructor(message: string) {
    super(oneLine(message));
  }
}

export interface PullTarget {
  url: string;
  /** undefined: the branch the remote's HEAD names. */
  branch?: string;
  /** The directory inside the repository, "" for its top. */
  path: string;
}

export interface SshCredentials {
  /** Private key file given to ssh -i; only this key is offered (IdentitiesOnly). */
  keyFile?: string;
  /** known_hosts file the server's key must be in. */
  knownHostsFile?: string;
  /** 'strict' (default): an unknown host key fails. 'accept-new': a first key is learnt into knownHostsFile. */
  hostKeyChecking?: 'strict' | 'accept-new';
}

export interface FetchOptions {
  /** Where the bare cache repositories live (one per URL). */
  cacheDir: string;
  ssh?: SshCredentials;
  /** Bound on each git call (default 60 s). */
  timeoutMs?: number;
}

export interface FetchedSource {
  commit: string;
  entries: TreeEntry[];
}

export type FetchSource = (target: PullTarget) => Promise<FetchedSource>;

const DEFAULT_TIMEOUT_MS = 60_000;
/** Where the fetched branch is kept in the cache repository. */
const FETCHED_REF = 'refs/flotilla/fetched';
const ALLOWED_PROTOCOLS = ['ssh', 'https', 'http', 'git', 'file'] as const;

/** Why a branch name cannot be fetched, or undefined (a subset of git check-ref-format). */
export function branchProblem(branch: string): string | undefined {
  if (branch === '') return 'it is empty';
  if (branch.length > 256) return 'it is longer than 256 characters';
  if (!/^[A-Za-z0-9._/-]+$/.test(branch)) return 'use letters, digits and . _ / - only';
  if (branch.startsWith('-') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.') || branch.endsWith('.lock')) return 'it starts or ends badly';
  if (branch.includes('..') || branch.includes('//') || branch.split('/').some((s) => s.startsWith('.'))) return 'it has ".." , "//" or a segment starting with "."';
  return undefined;
}

/** Why a URL cannot be fetched, or undefined. */
export function urlProblem(url: string): string | undefined {
  if (url === '' || url.length > 2048) return 'it is empty or longer than 2048 characters';
  if (url.startsWith('-')) return 'it starts with "-"';
  if (/[\s\0]/.test(url)) return 'it has white space or control characters';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && !(ALLOWED_PROTOCOLS as readonly string[]).includes(scheme)) return `${scheme}:// is not fetched (use ${ALLOWED_PROTOCOLS.join(', ')})`;
  if (scheme === undefined && /^[a-z][a-z0-9+.-]*::/i.test(url)) return 'git remote helpers ("x::") are not fetched';
  return undefined;
}

/** GIT_SSH_COMMAND: the caller's key only, host keys checked against the caller's file, never a prompt. */
export function sshCommand(ssh: SshCredentials = {}): string {
  const args = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15'];
  if (ssh.keyFile !== undefined) args.push('-i', ssh.keyFile, '-o', 'IdentitiesOnly=yes');
  args.push('-o', `StrictHostKeyChecking=${ssh.hostKeyChecking === 'accept-new' ? 'accept-new' : 'yes'}`);
  if (ssh.knownHostsFile !== undefined) args.push('-o', `UserKnownHostsFile=${ssh.knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null');
  // git runs this through a shell: quote every word.
  return args.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The cache repository of a URL: one per URL, so sources sharing a repository share its objects. */
export function cacheRepository(cacheDir: string, url: string): string {
  return join(cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 24)}.git`);
}

const CACHE_REPOSITORY = /^[0-9a-f]{24}\.git$/;

/**
 * Removes the cache repositories of URLs no pull source names any more
 * (`keepUrls`: the URLs of every pull source), so a host's cache does not
 * grow with every source ever followed. Only names this module gives
 * (cacheRepository) are touched, and never one a fetch is using. Returns
 * the repositories removed.
 */
export async function pruneFetchCache(cacheDir: string, keepUrls: readonly string[]): Promise<string[]> {
  const keep = new Set(keepUrls.map((u) => cacheRepository(cacheDir, u)));
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    // No cache yet (nothing fetched on this host): nothing to remove.
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const repo = join(cacheDir, name);
    if (!CACHE_REPOSITORY.test(name) || keep.has(repo) || busy.has(repo)) continue;
    await rm(repo, { recursive: true, force: true });
    removed.push(repo);
  }
  return removed;
}

/** A fetcher bound to this host's cache and credentials: what the pull duty is given. */
export function gitFetcher(opts: FetchOptions): FetchSource {
  return (target) => fetchSource(target, opts);
}

/** Fetches into one cache repository, one at a time in this process (git locks its refs). */
const busy = new Map<string, Promise<unknown>>();

export function fetchSource(target: PullTarget, opts: FetchOptions): Promise<FetchedSource> {
  const repo = cacheRepository(opts.cacheDir, target.url);
  // One fetch per cache repository at a time; the previous fetch's failure is its own caller's to see.
  const run = (busy.get(repo) ?? Promise.resolve()).catch(() => undefined).then(() => fetchInto(repo, target, opts));
  busy.set(repo, run);
  // Bookkeeping only: the caller gets `run` and its failure.
  void run.finally(() => {
    if (busy.get(repo) === run) busy.delete(repo);
  }).catch(() => undefined);
  return run;
}

async function fetchInto(repo: string, target: PullTarget, opts: FetchOptions): Promise<FetchedSource> {
  const what = target.branch === undefined ? `${target.url} (its HEAD)` : `branch ${target.branch} of ${target.url}`;
  const urlBad = urlProblem(target.url);
  if (urlBad !== undefined) throw new FetchError(`cannot fetch ${JSON.stringify(target.url)}: ${urlBad}: fix the source's URL (flotctl source add)`);
  const branchBad = target.branch === undefined ? undefined : branchProblem(target.branch);
  if (branchBad !== undefined) throw new FetchError(`cannot fetch branch ${JSON.stringify(target.branch)} of ${target.url}: ${branchBad}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    await mkdir(repo, { recursive: true, mode: 0o700 });
    const init = await runGit(['init', '--quiet', '--bare'], { cwd: repo, timeoutMs });
    if (init.code !== 0) throw new FetchError(`cannot make the fetch cache ${repo}: ${complaint(init)}`);
    const protocols = ALLOWED_PROTOCOLS.flatMap((p) => ['-c', `protocol.${p}.allow=always`]);
    const fetched = await runGit(
      ['-c', 'protocol.allow=never', ...protocols, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--depth=1', '--end-of-options', target.url, `+${target.branch === undefined ? 'HEAD' : `refs/heads/${target.branch}`}:${FETCHED_REF}`],
      { cwd: repo, timeoutMs, env: { GIT_SSH_COMMAND: sshCommand(opts.ssh), GIT_SSH_VARIANT: 'ssh' } },
    );
    if (fetched.code !== 0) throw new FetchError(`cannot fetch ${what}: ${complaint(fetched)}${hint(fetched, opts.ssh)}`);
    const head = await runGit(['rev-parse', '--verify', '--quiet', `${FETCHED_REF}^{commit}`], { cwd: repo, timeoutMs });
    const commit = head.stdout.toString('utf8').trim();
    if (head.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) throw new FetchError(`fetched ${what}, but it names no commit`);
    const entries = await readCommitTree(repo, commit, target.path);
    return { commit, entries };
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (err instanceof GitError) throw new FetchError(`cannot fetch ${what}: ${err.message}`);
    throw new FetchError(`cannot fetch ${what}: ${errorMessage(err)}`);
  }
}

/** The line of git's (or ssh's) stderr that says what went wrong. */
function complaint(r: GitResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // ssh speaks first and plainest; git then adds "Could not read from remote repository".
  const ssh = lines.find((l) => /host key verification failed|no .* host key is known|permission denied|could not resolve hostname|connection refused|connection timed out|no such file/i.test(l));
  const git = lines.find((l) => /^(fatal|error): /.test(l));
  const line = ssh ?? git ?? lines[0] ?? `git exited with status ${r.code}`;
  return line.replace(/^(fatal|error): /, '').replace(/^ssh: /, '');
}

function hint(r: GitResult, ssh: SshCredentials | undefined): string {
  if (/host key verification failed|no .* host key is known/i.test(r.stderr)) {
    const file = ssh?.knownHostsFile ?? '~/.ssh/known_hosts';
    return ` (the server's host key is not in ${file}: check it, then add it, e.g. ssh-keyscan HOST >> ${file})`;
  }
  if (/couldn't find remote ref/i.test(r.stderr)) return ' (no such branch: check --branch)';
  if (/permission denied \(publickey/i.test(r.stderr)) return ` (the server refused the key ${ssh?.keyFile ?? '(none given)'}: add its public key to the repository's deploy keys)`;
  return '';
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, '; ').trim();
  return line.length <= 1024 ? line : `${line.slice(0, 1023)}…`;
}
