/**
 * The cluster directory: cluster.json (what was started, so another process
 * can attach and tear down) and a marker file that makes it safe to wipe. A
 * --dir that holds anything else is refused: `rm -rf` of a user's directory
 * must never be one typo away. The dir is private to its user (private-dir.ts).
 */
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError, InvalidInputError } from '../util/errors.js';
import { livePidsIn } from './cgroups.js';
import type { EtcdState } from './etcd.js';
import type { SecureStore } from './secure-store.js';
import type { HostProcess } from './host.js';
import type { DevImages } from './images.js';
import { registryRunning, type RegistryState } from './registry.js';
import { unmountUnder } from './mounts.js';
import type { BootedState } from './boot/booted-host.js';
import { checkPrivateDir, defaultClusterDir, makePrivateDir } from './private-dir.js';
import { pidsWithArgs } from './procs.js';
import { mountsUnder } from './boot/host-root.js';

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
  /** Set for a booted host (systemd-nspawn, systemd as PID 1); absent for a systemd --user host. */
  boot?: BootedState;
}

/** A booted cluster's shared parts: the cached rootfs and the release its hosts install. */
export interface BootSetup {
  rootfs: string;
  tarball: string;
  sha256: string;
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
  /** Machine metadata per host index, besides hostname=<name>. */
  metadata?: Array<Record<string, string>>;
  /** Per-host Docker engines: the cluster's registry and the images pushed to it. */
  docker?: { registry: RegistryState; images?: DevImages };
  /** TLS material and user of a secured etcd (`flotillad dev --secure`). */
  secure?: SecureStore;
  etcd: EtcdState;
  hosts: ClusterHost[];
  /** Hosts boot (systemd-nspawn) instead of running systemd --user. */
  boot?: BootSetup;
}

const MARKER = '.flotilla-dev';
const STATE = 'cluster.json';

/** Values in printed commands are paths and URLs we made; quoted anyway in case --dir holds spaces. */
export function sh(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The command that stops the cluster in `dir` (without --dir for the default one). */
export function downCommand(dir: string): string {
  return dir === defaultClusterDir() ? 'npx flotillad dev --down' : `npx flotillad dev --down --dir ${sh(dir)}`;
}

export function statePath(dir: string): string {
  return join(dir, STATE);
}

export async function loadState(dir: string): Promise<SavedCluster | undefined> {
  // cluster.json names processes to signal and paths to delete: only from a dir that is ours alone.
  if (!(await checkPrivateDir(dir))) return undefined;
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
  if (s.docker && (await registryRunning(s.docker.registry))) return true;
  return false;
}

/**
 * Make `dir` an empty cluster dir. `cleanupStale` is called with the state of
 * a previous cluster whose processes are gone (or half gone), before wiping.
 */
export async function prepareDir(dir: string, cleanupStale: (s: SavedCluster) => Promise<void>): Promise<void> {
  const entries = await makePrivateDir(dir, (found) => {
    if (found.length > 0 && !found.includes(MARKER)) {
      throw new InvalidInputError(`${dir} is not empty and was not created by 'flotillad dev': choose another --dir`);
    }
  });
  const previous = await loadState(dir);
  if (previous) {
    if (await anythingRunning(previous)) {
      throw new FlotillaError(`a dev cluster is already running in ${dir}: stop it with '${downCommand(dir)}'`);
    }
    await cleanupStale(previous);
  }
  // A crashed run may have left a host's dockerd mounts or a booted host's root behind; rm cannot pass them.
  await unmountUnder(dir);
  const mounted = await mountsUnder(dir);
  if (mounted.length > 0) {
    throw new FlotillaError(`${mounted[0]} is still mounted (a booted host of an earlier cluster): umount it, then retry`);
  }
  for (const e of entries) if (e !== MARKER) await rm(join(dir, e), { recursive: true, force: true });
  await writeFile(join(dir, MARKER), 'created by flotillad dev; everything here may be deleted\n');
}

export async function isClusterDir(dir: string): Promise<boolean> {
  return access(join(dir, MARKER)).then(() => true, () => false);
}
