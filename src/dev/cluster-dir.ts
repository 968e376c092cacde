/**
 * The cluster directory: cluster.json (what was started, so another process
 * can attach and tear down) and a marker file that makes it safe to wipe. A
 * --dir that holds anything else is refused: `rm -rf` of a user's directory
 * must never be one typo away.
 */
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError, InvalidInputError } from '../util/errors.js';
import { livePidsIn } from './cgroups.js';
import type { EtcdState } from './etcd.js';
import type { SecureStore } from './secure-store.js';
import type { HostProcess } from './host.js';
import { pidsWithArgs } from './procs.js';

export interface ClusterHost extends HostProcess {
  index: number;
  machineId: string;
  publicIP: string;
  configPath: string;
  unitsDir: string;
  /** flotillad's stdout and stderr (no journald on these hosts). */
  logPath: string;
  /** The host's sshd (absent when sshd is not installed). */
  sshPort?: number;
  /** Its public host key, as written to the cluster's known_hosts. */
  sshHostKey?: string;
}

export interface SavedCluster {
  version: 1;
  dir: string;
  prefix: string;
  ttlSeconds: number;
  extraConfig: Record<string, string>;
  waitForAgents: boolean;
  /** Hosts whose flotillad reaches etcd through proxies (true: every host, also added ones). */
  etcdProxy?: boolean | number[];
  /** TLS material and user of a secured etcd (`flotillad dev --secure`). */
  secure?: SecureStore;
  etcd: EtcdState;
  hosts: ClusterHost[];
}

const MARKER = '.flotilla-dev';
const STATE = 'cluster.json';

export function statePath(dir: string): string {
  return join(dir, STATE);
}

export async function loadState(dir: string): Promise<SavedCluster | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as SavedCluster;
    if (s.version !== 1 || !Array.isArray(s.hosts) || !s.etcd) throw new Error('unexpected content');
    return s;
  } catch (err) {
    throw new FlotillaError(`${statePath(dir)} is unreadable (${(err as Error).message}): remove ${dir} by hand`);
  }
}

/** Written via rename so a reader never sees half a file. */
export async function saveState(s: SavedCluster): Promise<void> {
  const tmp = `${statePath(s.dir)}.tmp`;
  await writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`);
  await rename(tmp, statePath(s.dir));
}

export async function removeState(dir: string): Promise<void> {
  await rm(statePath(dir), { force: true });
}

/** Anything of the saved cluster still alive: an etcd member or a process in a host's cgroups. */
export async function anythingRunning(s: SavedCluster): Promise<boolean> {
  for (const m of s.etcd.members) if ((await pidsWithArgs(['--data-dir', m.dataDir])).length > 0) return true;
  for (const h of s.hosts) if ((await livePidsIn(h.cgroupPaths)).length > 0) return true;
  return false;
}

/**
 * Make `dir` an empty cluster dir. `cleanupStale` is called with the state of
 * a previous cluster whose processes are gone (or half gone), before wiping.
 */
export async function prepareDir(dir: string, cleanupStale: (s: SavedCluster) => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  const ours = entries.includes(MARKER);
  if (entries.length > 0 && !ours) {
    throw new InvalidInputError(`${dir} is not empty and was not created by 'flotillad dev': choose another --dir`);
  }
  const previous = await loadState(dir);
  if (previous) {
    if (await anythingRunning(previous)) {
      throw new FlotillaError(`a dev cluster is already running in ${dir}: stop it with 'flotillad dev --down --dir ${dir}'`);
    }
    await cleanupStale(previous);
  }
  for (const e of entries) if (e !== MARKER) await rm(join(dir, e), { recursive: true, force: true });
  await writeFile(join(dir, MARKER), 'created by flotillad dev; everything here may be deleted\n');
}

export async function isClusterDir(dir: string): Promise<boolean> {
  return access(join(dir, MARKER)).then(() => true, () => false);
}
