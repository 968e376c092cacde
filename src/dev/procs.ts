/**
 * Process inspection through /proc. Teardown must decide whether a PID is
 * still ours and still running without being its parent: PID 1 on the test
 * machines reaps orphans late, so a zombie counts as dead.
 */
import { readdir, readFile } from 'node:fs/promises';
import { waitFor } from '../util/deadline.js';

export type ProcState = 'running' | 'zombie' | 'gone';

/** Fields of /proc/PID/stat after the command name, which may itself hold spaces or ')'. */
async function statFields(pid: number): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  return text.slice(close + 2).trim().split(' ');
}

export async function procState(pid: number): Promise<ProcState> {
  if (!Number.isInteger(pid) || pid <= 0) return 'gone';
  const f = await statFields(pid);
  if (!f) return 'gone';
  // 'X' (dead) shows up for an instant while the kernel releases the task.
  return f[0] === 'Z' || f[0] === 'X' ? 'zombie' : 'running';
}

/** Stopped by a signal (state T): what SIGSTOP leads to, a moment after it is sent. */
export async function isStopped(pid: number): Promise<boolean> {
  const f = await statFields(pid);
  return f?.[0] === 'T';
}

export async function isRunning(pid: number): Promise<boolean> {
  return (await procState(pid)) === 'running';
}

/** Cgroup paths of a process, one entry per hierarchy line of /proc/PID/cgroup. */
export async function procCgroups(pid: number): Promise<string[]> {
  try {
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
    return text.split('\n').filter(Boolean).map((l) => l.split(':').slice(2).join(':'));
  } catch {
    return [];
  }
}

/** SIGKILL that ignores processes which have already gone. */
export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export async function waitAllDead(what: string, pids: number[], timeoutMs: number): Promise<void> {
  await waitFor(what, async () => {
    for (const pid of pids) if (await isRunning(pid)) return undefined;
    return true;
  }, { timeoutMs, intervalMs: 20 });
}

/** Live PIDs whose argv contains `args` as consecutive elements (e.g. ['--data-dir', D]). */
export async function pidsWithArgs(args: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    const at = argv.findIndex((_, i) => args.every((a, j) => argv[i + j] === a));
    if (at >= 0 && (await isRunning(Number(entry)))) out.push(Number(entry));
  }
  return out;
}
