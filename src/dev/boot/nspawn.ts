/**
 * One booted host: systemd-nspawn running systemd as PID 1 over the host's
 * own root (see booted-hosts-notes.md). No machined runs on these machines,
 * hence --register=no --keep-unit; no --private-network, so hosts share the
 * machine's network namespace (etcd on 127.0.0.1, each host on its 127.x).
 *
 * nspawn starts inside cgroups of the host's own (a slice per host in both
 * hierarchies, as the simulated hosts have), which it delegates to the
 * container's systemd: two hosts never share a cgroup, and power loss is one
 * write to the slice's cgroup.kill (nspawn, init and every process of the
 * host die at once; a SIGKILL of nspawn alone leaves the container running).
 *
 * The machine reaches a host's systemd with `nsenter -t <init> -a`, and its
 * system bus through /proc/<init>/root (its /run is private to it).
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { delay, waitFor } from '../../util/deadline.js';
import { FlotillaError } from '../../util/errors.js';
import { inCgroups, killCgroups, livePidsIn } from '../cgroups.js';
import { findExecutable, run, type RunResult } from '../exec.js';
import { isRunning, killQuietly } from '../procs.js';

export interface ContainerSpec {
  /** Unique on the machine (nspawn's machine name); the hostname is `hostname`. */
  machine: string;
  hostname: string;
  root: string;
  /** 32 hex digits: systemd makes /etc/machine-id from it on a host whose file is empty. */
  machineId: string;
  /** Leaf cgroup dirs to start nspawn in (one per hierarchy). */
  cgroups: string[];
  consoleLog: string;
}

export interface Container {
  nspawnPid: number;
  /** The host's systemd (PID 1 inside), as a machine PID. */
  initPid: number;
}

const INIT_TIMEOUT_MS = 15_000;

/** 32 hex -> 8-4-4-4-12, the form nspawn --uuid takes. */
function uuid(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

export function nspawnArgs(s: ContainerSpec): string[] {
  return [
    '--quiet', '--boot',
    `--directory=${s.root}`,
    `--machine=${s.machine}`,
    `--hostname=${s.hostname}`,
    `--uuid=${uuid(s.machineId)}`,
    '--register=no', '--keep-unit',
    // Output goes to the console log; no journal link into the machine's /var/log.
    '--console=passive', '--link-journal=no',
  ];
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

async function comm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
}

async function tail(path: string): Promise<string> {
  return (await readFile(path, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
}

/** Start nspawn; resolves once the host's init runs (not yet booted: see waitBooted). */
export async function startContainer(s: ContainerSpec): Promise<Container> {
  const nspawn = await findExecutable('systemd-nspawn', ['/usr/bin/systemd-nspawn']).catch(() => {
    throw new FlotillaError("systemd-nspawn not found: run 'bash src/dev/ensure-deps.sh' (installs systemd-container and mmdebstrap)");
  });
  const log = await open(s.consoleLog, 'a');
  let nspawnPid: number;
  try {
    const child = spawn('/bin/sh', inCgroups(s.cgroups, [nspawn, ...nspawnArgs(s)]), {
      stdio: ['ignore', log.fd, log.fd],
      // Own session: a Ctrl-C of `flotillad dev` must not reach the hosts.
      detached: true,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    nspawnPid = await new Promise<number>((res, rej) => {
      child.on('error', rej);
      child.on('spawn', () => res(child.pid ?? 0));
    });
    child.unref();
  } finally {
    await log.close();
  }
  const initPid = await waitFor(`${s.hostname}'s init under nspawn ${nspawnPid}`, async () => {
    if (!(await isRunning(nspawnPid))) throw new FlotillaError(`systemd-nspawn for ${s.hostname} exited: ${await tail(s.consoleLog)}`);
    for (const c of await childrenOf(nspawnPid)) if ((await comm(c)) === 'systemd') return c;
    return undefined;
  }, { timeoutMs: INIT_TIMEOUT_MS, intervalMs: 10 });
  return { nspawnPid, initPid };
}

/** Run a command inside the host (all of its namespaces), as root. */
export function execIn(initPid: number, argv: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return run('nsenter', ['-t', String(initPid), '-a', ...argv], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
}

/**
 * Until the host's boot has finished: `running`, or `degraded` (some unit
 * failed; it still runs). systemctl cannot connect until PID 1 has set up
 * its socket, a moment after init starts: that is retried.
 */
export async function waitBooted(initPid: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await execIn(initPid, ['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(1, deadline - Date.now()) });
    const state = r.stdout.trim();
    if (state === 'running' || state === 'degraded') return state;
    last = state || r.stderr.trim() || `exit ${r.code}`;
    if (!(await isRunning(initPid))) throw new FlotillaError(`the host's systemd exited during boot (${last})`);
    // 'offline': systemctl reached no manager yet (PID 1 has not set up its socket); the others are final.
    if (!['', 'offline', 'initializing', 'starting'].includes(state)) break;
    await delay(50);
  }
  throw new FlotillaError(`host did not finish booting within ${timeoutMs} ms (is-system-running: ${last})`);
}

/** The machine PID of a process that the host's own PID namespace calls `pid` (e.g. a unit's MainPID). */
export async function machinePid(cgroups: string[], pid: number): Promise<number> {
  if (pid <= 0) return 0;
  for (const p of await livePidsIn(cgroups)) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const ns = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    if (ns && ns.length > 1 && Number(ns[ns.length - 1]) === pid) return p;
  }
  return 0;
}

/** Power loss: everything of the host dies at once; its cgroups are removed. */
export async function killContainer(cgroupRoots: string[]): Promise<void> {
  await killCgroups(cgroupRoots);
}

/** Clean shutdown: SIGTERM makes nspawn ask the host's systemd to power off; then the cgroups go. */
export async function stopContainer(c: Container, cgroupRoots: string[], timeoutMs = 30_000): Promise<void> {
  if (await isRunning(c.nspawnPid)) {
    killQuietly(c.nspawnPid, 'SIGTERM');
    // A host that does not power off in time is killed with its cgroups below either way.
    await waitFor('the host to shut down', async () => ((await isRunning(c.nspawnPid)) ? undefined : true), { timeoutMs, intervalMs: 50 }).catch(() => undefined);
  }
  await killCgroups(cgroupRoots);
}
