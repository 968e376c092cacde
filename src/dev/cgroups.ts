/**
 * Per-host cgroups. Without its own cgroup every `systemd --user` puts units
 * in the same /app.slice/<unit>, so stopping x.service on one simulated host
 * kills x.service on all of them. Each host gets a slice directory in every
 * hierarchy systemd looks at (named=systemd v1 and cgroup2), and teardown
 * kills whatever is left in it, because SIGKILLed managers orphan their units.
 */
import { mkdir, readFile, readdir, rmdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../util/deadline.js';
import { FlotillaError } from '../util/errors.js';
import { killQuietly, procState } from './procs.js';

export interface CgroupMount { path: string; v2: boolean }

let mountsCache: CgroupMount[] | undefined;
let controllerCache: string[] | undefined;

interface CgroupFs { point: string; v2: boolean; options: string[] }

/** Every cgroup and cgroup2 mount of this process's mount namespace, in mountinfo order. */
async function cgroupFilesystems(): Promise<CgroupFs[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: CgroupFs[] = [];
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const point = pre.split(' ')[4];
    const [fstype, , superOpts = ''] = post.split(' ');
    if (point && (fstype === 'cgroup' || fstype === 'cgroup2')) out.push({ point, v2: fstype === 'cgroup2', options: superOpts.split(',') });
  }
  return out;
}

/**
 * The hierarchies that matter for systemd: the cgroup2 mount (unified) and the
 * v1 name=systemd one if present. Controller hierarchies (memory, cpu…) are
 * left alone; the sandbox we run in may own them.
 */
export async function cgroupMounts(): Promise<CgroupMount[]> {
  if (mountsCache) return mountsCache;
  const all = await cgroupFilesystems();
  const named = all.find((m) => !m.v2 && m.options.includes('name=systemd'))?.point;
  const v2 = all.find((m) => m.v2)?.point;
  const mounts: CgroupMount[] = [];
  if (named) mounts.push({ path: named, v2: false });
  if (v2) mounts.push({ path: v2, v2: true });
  if (mounts.length === 0) {
    throw new FlotillaError('no cgroup2 or name=systemd cgroup hierarchy is mounted; systemd --user cannot run here');
  }
  mountsCache = mounts;
  return mounts;
}

/**
 * v1 controller hierarchies (memory, cpu, pids, ...). The hosts' own
 * processes stay wherever they started in these; only what a host's dockerd
 * creates (its containers, under --cgroup-parent=/<slice>/docker) appears
 * here, and teardown removes those empty dirs.
 */
export async function controllerMounts(): Promise<string[]> {
  controllerCache ??= [...new Set((await cgroupFilesystems()).filter((m) => !m.v2 && !m.options.some((o) => o.startsWith('name='))).map((m) => m.point))];
  return controllerCache;
}

/** `<slice>` in every v1 controller hierarchy (where a host's containers get cgroups of their own). */
export async function controllerSliceDirs(slice: string): Promise<string[]> {
  return (await controllerMounts()).map((m) => join(m, slice));
}

/** Absolute dirs of `<slice>` in every hierarchy, in mount order. */
export async function sliceDirs(slice: string): Promise<string[]> {
  return (await cgroupMounts()).map((m) => join(m.path, slice));
}

/** Create `<slice>/<leaf>` in every hierarchy; returns the leaf dirs in mount order. */
export async function makeCgroups(slice: string, leaf: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const root of await sliceDirs(slice)) {
    const dir = join(root, leaf);
    await mkdir(dir, { recursive: true });
    dirs.push(dir);
  }
  return dirs;
}

/**
 * argv for a shell that moves itself into each cgroup and then execs the
 * command, so the command starts (and forks) inside them from its first instruction.
 */
export function inCgroups(cgroups: string[], argv: string[]): string[] {
  const script = 'set -e; n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs"; shift; n=$((n-1)); done; exec "$@"';
  return ['-c', script, 'sh', String(cgroups.length), ...cgroups, ...argv];
}

/** Every cgroup dir under `root` (inclusive), children before parents, so rmdir can walk it in order. */
async function treePostOrder(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) if (e.isDirectory()) out.push(...(await treePostOrder(join(root, e.name))));
  out.push(root);
  return out;
}

async function procsIn(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Live (non-zombie) PIDs anywhere under the given cgroup dirs. */
export async function livePidsIn(roots: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const root of roots) {
    for (const dir of await treePostOrder(root)) for (const pid of await procsIn(dir)) pids.add(pid);
  }
  const live: number[] = [];
  for (const pid of pids) if ((await procState(pid)) === 'running') live.push(pid);
  return live;
}

/**
 * SIGKILL everything under the given cgroup dirs until nothing live is left,
 * then remove the dirs. cgroup.kill (v2, Linux >= 5.14) is atomic against
 * forks; the v1 loop covers the rest and races with forking only until the
 * manager itself is dead.
 */
export async function killCgroups(roots: string[], timeoutMs = 10_000): Promise<void> {
  for (const root of roots) {
    const killFile = join(root, 'cgroup.kill');
    try {
      await access(killFile);
      await writeFile(killFile, '1');
    } catch {
      // no such cgroup, or a v1 hierarchy: the loop below does it
    }
  }
  await waitFor(`processes in ${roots.join(', ')} to die`, async () => {
    const live = await livePidsIn(roots);
    for (const pid of live) killQuietly(pid);
    return live.length === 0 ? true : undefined;
  }, { timeoutMs, intervalMs: 20 });
  await removeCgroups(roots, timeoutMs);
}

/**
 * Remove cgroup trees whose processes are already dead (children first).
 * rmdir fails with EBUSY while an exiting task is still attached; retry until it has gone.
 */
export async function removeCgroups(roots: string[], timeoutMs: number): Promise<void> {
  for (const root of roots) {
    for (const dir of await treePostOrder(root)) {
      await waitFor(`cgroup ${dir} to be removable`, async () => {
        try {
          await rmdir(dir);
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
          throw err;
        }
      }, { timeoutMs, intervalMs: 20 });
    }
  }
}
