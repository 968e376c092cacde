/**
 * What a dev-cluster test may leave behind: nothing. These helpers look for
 * live processes (zombies count as dead: PID 1 reaps late here) that refer to
 * a directory or live in a cgroup, and for paths that should be gone.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import { procState } from '../../src/dev/procs.js';

export interface LiveProc { pid: number; cmdline: string }

/** Live processes whose command line or cgroup path contains any of `needles`. */
export async function liveProcsMentioning(needles: string[]): Promise<LiveProc[]> {
  const found: LiveProc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline = '';
    let cgroup = '';
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (!needles.some((n) => cmdline.includes(n) || cgroup.includes(n))) continue;
    if ((await procState(pid)) === 'running') found.push({ pid, cmdline });
  }
  return found;
}

/** Those of `paths` (cgroup dirs, sockets, …) that still exist. */
export async function existing(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) if (await access(p).then(() => true, () => false)) out.push(p);
  return out;
}
