/**
 * A booted host's own filesystem: an overlayfs whose lower layer is the
 * shared, read-only cached rootfs and whose upper layer lives on a tmpfs of
 * the host's own. Mounting takes ~10 ms and costs only what the host writes
 * (~8 MB after a boot, plus the release if installed), where a copy of the
 * rootfs costs ~300 MB and seconds per host. The tmpfs survives the host's
 * power loss (like a disk), and goes with teardown.
 *
 *   <hostDir>/disk        tmpfs: upper/ and work/ of the overlay
 *   <hostDir>/root        the merged tree: what the host sees as /
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError, InvalidInputError } from '../../util/errors.js';
import { run } from '../exec.js';

export interface HostRootPaths {
  /** The merged tree, the host's /. */
  root: string;
  /** The tmpfs holding upper/ and work/. */
  disk: string;
  lower: string;
}

export function hostRootPaths(hostDir: string, lower: string): HostRootPaths {
  return { root: join(hostDir, 'root'), disk: join(hostDir, 'disk'), lower };
}

/** Mount points under /proc/self/mountinfo (octal escapes decoded). */
async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp) out.add(mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Mount points inside `dir` (never wipe a directory through a mounted host root). */
export async function mountsUnder(dir: string): Promise<string[]> {
  return [...(await mountPoints())].filter((m) => m.startsWith(`${dir}/`));
}

export async function isMounted(path: string): Promise<boolean> {
  return (await mountPoints()).has(path);
}

async function mustRun(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new FlotillaError(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}

/** Mount (or find mounted) the host's overlay; idempotent, so a restarted host keeps its disk. */
export async function mountHostRoot(p: HostRootPaths): Promise<void> {
  for (const path of [p.root, p.disk, p.lower]) {
    if (/[,:\s\\]/.test(path)) throw new InvalidInputError(`path ${path} holds a comma, colon, space or backslash, which overlayfs options cannot carry: use a plain cluster dir`);
  }
  await mkdir(p.disk, { recursive: true });
  await mkdir(p.root, { recursive: true });
  if (!(await isMounted(p.disk))) await mustRun('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'flotilla-host-disk', p.disk]);
  if (await isMounted(p.root)) return;
  const upper = join(p.disk, 'upper');
  const work = join(p.disk, 'work');
  await mkdir(upper, { recursive: true, mode: 0o755 });
  await mkdir(work, { recursive: true });
  await mustRun('mount', ['-t', 'overlay', '-o', `lowerdir=${p.lower},upperdir=${upper},workdir=${work}`, 'flotilla-host-root', p.root]);
}

/** Unmount the overlay and its tmpfs (everything the host wrote goes) and remove the mount points. */
export async function unmountHostRoot(p: Pick<HostRootPaths, 'root' | 'disk'>): Promise<void> {
  for (const path of [p.root, p.disk]) {
    if (await isMounted(path)) await mustRun('umount', [path]);
    await rm(path, { recursive: true, force: true });
  }
}
