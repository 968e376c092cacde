/** Runs the built flotctl as a child process, the way users and scripts do. */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FLOTCTL = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Fed to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
}

export function flotctl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnFlotctl(args, opts).done;
}

/** Lines of a table, each split on runs of whitespace (how fleet's tests read tables). */
export function cells(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => l.trim().split(/\s+/));
}

/** A flotctl still running: its output so far, and its end. */
export interface Running {
  stdout(): string;
  stderr(): string;
  done: Promise<RunResult>;
}

/** Like flotctl, for commands a test must watch while they run (blocking waits). */
export function spawnFlotctl(args: readonly string[], opts: RunOptions = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [FLOTCTL, ...args], {
    // A clean environment: a developer's FLOTCTL_* or NO_COLOR must not change what tests see.
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 20_000,
  });
  child.stdin?.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
  return { stdout: () => stdout, stderr: () => stderr, done };
}

/**
 * Runs a file as a command, through its #! line and execute bit, as npx and a
 * shell do (not `node FILE`). `code` is the exit status, or the spawn error
 * (EACCES: not executable).
 */
export function runFile(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : String(err.code ?? err.message);
      resolve({ code, stdout, stderr });
    });
  });
}
