/**
 * The git program, run directly (no shell, argv only, bounded output and
 * time): what `flotctl sync` needs of a work tree (its repository, HEAD, and
 * whether the source's files differ from HEAD), and reading a directory of a
 * commit (for pull mode) into the same tree entries the parser reads from
 * disk. Every failure is a GitError with one line naming the fix.
 */
import { spawn } from 'node:child_process';
import { InvalidInputError } from '../util/errors.js';
import { TREE_LIMITS, type TreeEntry, type TreeLimits, isRelevantName } from './tree.js';

export class GitError extends InvalidInputError {}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  /** Fed to stdin. */
  input?: string;
  /** Output beyond this fails the call (default 4 MiB). */
  maxBytes?: number;
  timeoutMs?: number;
  /** Variables added to git's environment (GIT_SSH_COMMAND for a fetch). */
  env?: Readonly<Record<string, string>>;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Variables that would point git at another repository than the one asked about. */
const LOCATION_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_PREFIX'];

function gitEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };
  for (const v of LOCATION_VARIABLES) delete env[v];
  return env;
}

/** Runs git; resolves with its exit code (non-zero is the caller's to judge), rejects with GitError when it cannot run. */
export function runGit(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    // fsmonitor would run a program the repository's config names.
    const child = spawn('git', ['-c', 'core.fsmonitor=false', ...args], {
      cwd: opts.cwd,
      env: gitEnv(opts.env),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let failure: GitError | undefined;
    child.stdout?.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > maxBytes) {
        failure ??= new GitError(`git ${args[0] ?? ''} printed more than ${maxBytes} bytes in ${opts.cwd}`);
        child.kill('SIGKILL');
      } else chunks.push(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        // cwd missing also gives ENOENT; say which.
        failure ??= new GitError(`cannot run git in ${opts.cwd}: git is not installed (Debian: apt-get install git) or the directory is gone`);
      } else failure ??= new GitError(`cannot run git: ${err.message}`);
    });
    child.on('close', (code, signal) => {
      if (failure) return reject(failure);
      if (signal) return reject(new GitError(`git ${args[0] ?? ''} in ${opts.cwd} was stopped (${signal}) after ${(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`));
      resolve({ code: code ?? 1, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

/** git's own first "fatal:"/"error:" line, for messages. */
export function gitComplaint(r: GitResult): string {
  const line = r.stderr.split('\n').find((l) => /^(fatal|error): /.test(l)) ?? r.stderr.split('\n')[0] ?? '';
  return line.replace(/^(fatal|error): /, '').trim() || `exit status ${r.code}`;
}

export interface WorkTree {
  /** Absolute path of the work tree's top level. */
  topLevel: string;
  /** The directory's path inside the repository, "" at the top, else "a/b" (no trailing slash). */
  path: string;
  /** HEAD's commit id; undefined before the first commit. */
  head: string | undefined;
  /** remote.origin.url, when set. */
  origin: string | undefined;
}

/** The work tree `dir` is in, or undefined when it is in none (a plain directory). */
export async function workTreeOf(dir: string): Promise<WorkTree | undefined> {
  const where = await runGit(['rev-parse', '--is-inside-work-tree', '--show-toplevel', '--show-prefix'], { cwd: dir });
  if (where.code !== 0) {
    if (/not a git repository/.test(where.stderr)) return undefined;
    throw new GitError(`git cannot read ${dir}: ${gitComplaint(where)}`);
  }
  const [inside, topLevel = '', prefix = ''] = where.stdout.toString('utf8').split('\n');
  if (inside !== 'true') throw new GitError(`${dir} is inside a git directory, not a work tree: give a directory of a checkout`);
  const [head, origin] = await Promise.all([
    runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: dir }),
    runGit(['config', '--get', 'remote.origin.url'], { cwd: dir }),
  ]);
  const id = head.stdout.toString('utf8').trim();
  const url = origin.stdout.toString('utf8').trim();
  return {
    topLevel,
    path: prefix.replace(/\/+$/, ''),
    head: head.code === 0 && /^[0-9a-f]{40,64}$/.test(id) ? id : undefined,
    origin: origin.code === 0 && url !== '' ? url : undefined,
  };
}

const GLOB_SPECIAL = /[*?[\]\\]/g;

/**
 * Files of the source directory that differ from HEAD (modified, staged,
 * untracked, or ignored yet read by sync), among those that can change the
 * desired state: a README edit does not make a source dirty. Relative to the
 * directory, sorted.
 */
export async function changedSourceFiles(tree: WorkTree): Promise<string[]> {
  const base = tree.path === '' ? '' : `${tree.path.replace(GLOB_SPECIAL, '\\$&')}/`;
  // Top-level entries only ("*" does not cross "/" in a glob pathspec), and what is below
  // systemd's per-unit directories; never a whole ignored build tree.
  const specs = [`:(top,glob)${base}*`, ...['d', 'wants', 'requires'].map((d) => `:(top,glob)${base}*.${d}/**`)];
  const r = await runGit(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=matching', '--no-renames', '--', ...specs], {
    cwd: tree.topLevel,
    maxBytes: 16 * 1024 * 1024,
  });
  if (r.code !== 0) throw new GitError(`git status failed in ${tree.topLevel}: ${gitComplaint(r)}`);
  const prefix = tree.path === '' ? '' : `${tree.path}/`;
  const out = new Set<string>();
  for (const record of r.stdout.toString('utf8').split('\0')) {
    if (record.length < 4) continue;
    const path = record.slice(3);
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length);
    const first = rel.split('/')[0] as string;
    if (isRelevantName(first)) out.add(rel);
  }
  return [...out].sort();
}

/** A commit id for `rev` in the repository at `repo` (a work tree or a bare repository). */
export async function resolveCommit(repo: string, rev: string): Promise<string> {
  if (rev.startsWith('-')) throw new GitError(`invalid revision ${JSON.stringify(rev)}`);
  const r = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd: repo });
  const id = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || !/^[0-9a-f]{40,64}$/.test(id)) throw new GitError(`no commit ${JSON.stringify(rev)} in ${repo}`);
  return id;
}

interface TreeListing {
  mode: string;
  type: string;
  oid: string;
  size: number;
  name: string;
}

/**
 * The directory `path` ("" = top) of `commit`, as tree entries: blobs are
 * read with one `git cat-file --batch`, only for names that matter and
 * within the same bounds as a work tree on disk.
 */
export async function readCommitTree(repo: string, commit: string, path: string, limits: TreeLimits = TREE_LIMITS): Promise<TreeEntry[]> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new GitError(`invalid commit id ${JSON.stringify(commit)}`);
  const clean = path.replace(/^\/+|\/+$/g, '');
  const ls = await runGit(['ls-tree', '-l', '-z', '--full-tree', `${commit}:${clean}`], { cwd: repo, maxBytes: limits.entries * 400 });
  if (ls.code !== 0) throw new GitError(`commit ${commit.slice(0, 12)} has no directory ${JSON.stringify(clean || '.')}: ${gitComplaint(ls)}`);
  const listed = parseLsTree(ls.stdout.toString('utf8'));
  if (listed.length > limits.entries) throw new GitError(`${clean || '.'} at ${commit.slice(0, 12)} has more than ${limits.entries} entries`);
  const entries: TreeEntry[] = [];
  const wanted: TreeListing[] = [];
  let total = 0;
  for (const e of listed) {
    if (!isRelevantName(e.name)) continue;
    if (e.type === 'tree') entries.push({ name: e.name, kind: 'dir' });
    else if (e.type !== 'blob') entries.push({ name: e.name, kind: 'other', problem: `is a git ${e.type === 'commit' ? 'submodule' : e.type}, not a file` });
    else if (e.mode !== '120000' && e.size > limits.fileBytes) {
      entries.push({ name: e.name, kind: 'other', problem: `is ${e.size} bytes, more than the ${limits.fileBytes} a unit file may have` });
    } else if ((total += e.size) > limits.totalBytes) {
      entries.push({ name: e.name, kind: 'other', problem: `does not fit: the directory's files are more than ${limits.totalBytes} bytes together` });
    } else wanted.push(e);
  }
  if (wanted.length === 0) return entries;
  const blobs = await runGit(['cat-file', '--batch'], { cwd: repo, input: wanted.map((e) => `${e.oid}\n`).join(''), maxBytes: total + wanted.length * 100 + 1024 });
  if (blobs.code !== 0) throw new GitError(`git cat-file failed in ${repo}: ${gitComplaint(blobs)}`);
  const texts = parseBatch(blobs.stdout);
  for (const e of wanted) {
    const text = texts.get(e.oid);
    if (text === undefined) entries.push({ name: e.name, kind: 'other', problem: 'is missing from the repository' });
    else if (e.mode === '120000') entries.push({ name: e.name, kind: 'symlink', target: text });
    else entries.push({ name: e.name, kind: 'file', text });
  }
  return entries;
}

/** "<mode> <type> <oid> <size>\t<name>\0" records. */
export function parseLsTree(out: string): TreeListing[] {
  const list: TreeListing[] = [];
  for (const rec of out.split('\0')) {
    const m = /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t(.+)$/s.exec(rec);
    if (m) list.push({ mode: m[1] as string, type: m[2] as string, oid: m[3] as string, size: m[4] === '-' ? 0 : Number(m[4]), name: m[5] as string });
  }
  return list;
}

/** `git cat-file --batch` output: "<oid> <type> <size>\n<bytes>\n" per object. */
function parseBatch(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) break;
    const header = buf.subarray(at, nl).toString('utf8');
    const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(header);
    at = nl + 1;
    if (!m) continue; // "<oid> missing"
    const size = Number(m[3]);
    out.set(m[1] as string, buf.subarray(at, at + size).toString('utf8'));
    at += size + 1;
  }
  return out;
}
