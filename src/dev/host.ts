/**
 * One simulated host: a private dbus-daemon plus `systemd --user` in a cgroup
 * slice of its own, with its own HOME and XDG dirs. Several of them on one
 * machine behave like separate systemd hosts for the agent: same unit names,
 * independent lifecycles. See test-cluster-notes.md for the measured facts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { delay, waitFor } from '../util/deadline.js';
import { FlotillaError, InvalidInputError } from '../util/errors.js';
import { ManagerProbe } from './bus.js';
import { controllerSliceDirs, inCgroups, killCgroups, livePidsIn, makeCgroups, sliceDirs } from './cgroups.js';
import { removeStaleShimSockets } from './docker.js';
import { findExecutable, run, type RunResult } from './exec.js';
import { unmountUnder } from './mounts.js';
import { isRunning, killQuietly, procCgroups } from './procs.js';

export interface HostSpec {
  dir: string;
  name: string;
  /** More environment for the host's manager (and so for its units), e.g. DOCKER_HOST. */
  env?: Record<string, string>;
}

export interface HostProcess {
  name: string;
  dir: string;
  busAddress: string;
  runtimeDir: string;
  configDir: string;
  /** HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS: enough to run `systemctl --user` against this host. */
  env: Record<string, string>;
  systemdPid: number;
  dbusPid: number;
  /** The host's slice dir in every cgroup hierarchy; everything the host runs lives below them. */
  cgroupPaths: string[];
}

/** sun_path is 108 bytes including the NUL. */
export const MAX_SOCKET_PATH = 107;
const READY_TIMEOUT_MS = 15_000;

/**
 * Slice name unique per host dir, so two clusters on one machine (parallel
 * test files) never share a cgroup even though both have a "host1".
 */
export function hostSlice(name: string, dir: string): string {
  const tag = createHash('sha1').update(dir).digest('hex').slice(0, 8);
  return `flotilla-${name}-${tag}.slice`;
}

/**
 * XDG_RUNTIME_DIR must not be the bus socket's directory: the manager's own
 * dbus.socket unit listens on $XDG_RUNTIME_DIR/bus and would replace our socket.
 */
export function hostEnv(dir: string): Record<string, string> {
  const runtimeDir = join(dir, 'rt');
  return {
    HOME: join(dir, 'home'),
    XDG_RUNTIME_DIR: runtimeDir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'run', 'bus')}`,
  };
}

/** Paths a host will use, known before it starts (so files can be put in place first). */
export function hostPaths(dir: string): { busAddress: string; runtimeDir: string; configDir: string } {
  const env = hostEnv(resolve(dir));
  return { busAddress: env.DBUS_SESSION_BUS_ADDRESS, runtimeDir: env.XDG_RUNTIME_DIR, configDir: env.XDG_CONFIG_HOME };
}

/** Where sockets live: the bus dir and XDG_RUNTIME_DIR. */
function runDirs(dir: string): string[] {
  return [join(dir, 'run'), join(dir, 'rt')];
}

/** The environment the manager itself runs with; units inherit it, so keep it minimal. */
function managerEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/sh',
    ...env,
  };
}

async function tail(path: string, lines = 5): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

async function startDbus(dir: string, env: Record<string, string>, cgroups: string[]): Promise<number> {
  const dbusDaemon = await findExecutable('dbus-daemon', ['/usr/bin/dbus-daemon']);
  const log = await open(join(dir, 'dbus.log'), 'a');
  try {
    const child = spawn('/bin/sh', inCgroups(cgroups, [
      dbusDaemon, '--session', `--address=${env.DBUS_SESSION_BUS_ADDRESS}`, '--fork', '--print-pid', '--nopidfile',
    ]), { env: managerEnv(env), stdio: ['ignore', 'pipe', log.fd], detached: true });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
    // --fork: the first process exits once the daemon listens; the daemon's PID arrives on stdout.
    const code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('exit', (c) => res(c));
    });
    if (code !== 0) throw new FlotillaError(`dbus-daemon for ${dir} failed (exit ${code}): ${await tail(join(dir, 'dbus.log'))}`);
    return await waitFor('dbus-daemon to print its pid', () => {
      const m = /^(\d+)\s*$/m.exec(out);
      return m ? Number(m[1]) : undefined;
    }, { timeoutMs: 5_000, intervalMs: 10 });
  } finally {
    await log.close();
  }
}

async function startSystemd(dir: string, env: Record<string, string>, cgroups: string[]): Promise<number> {
  const systemd = await findExecutable('systemd', ['/lib/systemd/systemd', '/usr/lib/systemd/systemd']);
  const log = await open(join(dir, 'systemd.log'), 'a');
  try {
    const child = spawn('/bin/sh', inCgroups(cgroups, [systemd, '--user']), {
      env: managerEnv(env),
      stdio: ['ignore', log.fd, log.fd],
      // Own session: a Ctrl-C in the terminal of `flotillad dev` must not reach the hosts.
      detached: true,
    });
    const pid = await new Promise<number>((res, rej) => {
      child.on('error', rej);
      child.on('spawn', () => res(child.pid ?? 0));
    });
    // Node keeps reaping it while we live, but must not wait for it to exit.
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

/**
 * Poll `check` until it yields true, failing at once (with the manager's log)
 * if systemd has exited: a broken start should not cost the whole timeout.
 */
async function untilManager(host: HostProcess, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = '';
  for (;;) {
    if (!(await isRunning(host.systemdPid))) {
      throw new FlotillaError(`${host.name}: systemd --user exited during start-up: ${await tail(join(host.dir, 'systemd.log'))}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new FlotillaError(`${host.name}: timed out after ${READY_TIMEOUT_MS} ms waiting for ${what}${lastError ? ` (${lastError})` : ''}`);
    }
    await delay(10);
  }
}

/**
 * A user manager connects to the session bus only while its own dbus.socket
 * and dbus.service units run (systemd's manager_dbus_is_running). Starting the
 * stock dbus.service (listening on $XDG_RUNTIME_DIR/bus, unused) makes it
 * connect to DBUS_SESSION_BUS_ADDRESS, which is our daemon. systemctl must go
 * through the private socket: before it exists, systemctl falls back to the
 * bus, where systemd is not yet.
 */
async function joinBus(host: HostProcess): Promise<void> {
  const priv = join(host.runtimeDir, 'systemd', 'private');
  // The socket file appears a moment before systemd accepts on it, so retry.
  await untilManager(host, 'dbus.service to start', async () => {
    if (!(await stat(priv)).isSocket()) return false;
    const r = await systemctl(host, ['start', 'dbus.service']);
    if (r.code !== 0) throw new Error(r.stderr.trim());
    return true;
  });
  const probe = new ManagerProbe(host.busAddress);
  try {
    await untilManager(host, `the systemd Manager on ${host.busAddress}`, async () => (await probe.version()) !== undefined);
  } finally {
    probe.close();
  }
}

/**
 * The deepest unix socket the user manager of a host in `dir` makes itself
 * (besides systemd/private and systemd/notify; sockets of units, such as
 * gnupg's, are theirs to fit).
 */
export function longestSocketPath(dir: string): string {
  return join(hostEnv(dir).XDG_RUNTIME_DIR, 'systemd', 'inaccessible', 'sock');
}

export async function startHost(spec: HostSpec): Promise<HostProcess> {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(spec.name)) {
    throw new InvalidInputError(`host name '${spec.name}' must be 1-32 letters, digits, '_' or '-'`);
  }
  const dir = resolve(spec.dir);
  const env = { ...hostEnv(dir), ...spec.env };
  const longest = longestSocketPath(dir);
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH) {
    throw new InvalidInputError(`host dir ${dir} is too long: socket path ${longest} exceeds ${MAX_SOCKET_PATH} bytes`);
  }
  const slice = hostSlice(spec.name, dir);
  const leftovers = await livePidsIn(await sliceDirs(slice));
  if (leftovers.length > 0) {
    throw new FlotillaError(`host ${spec.name} in ${dir} is already running (pids ${leftovers.join(' ')} in ${slice}): kill it first`);
  }
  // systemd only acts as a full manager if it believes the machine was booted with systemd.
  await mkdir('/run/systemd/system', { recursive: true });
  for (const d of [env.HOME, env.XDG_CONFIG_HOME, env.XDG_DATA_HOME, env.XDG_STATE_HOME, env.XDG_CACHE_HOME]) {
    await mkdir(d, { recursive: true });
  }
  await mkdir(join(env.XDG_CONFIG_HOME, 'systemd', 'user'), { recursive: true });
  // Like /run at boot: stale sockets from an earlier run would make dbus-daemon fail to listen,
  // and a crashed run's dockerd mounts would make the wipe fail.
  await unmountUnder(dir);
  for (const d of runDirs(dir)) {
    await rm(d, { recursive: true, force: true });
    await mkdir(d, { recursive: true, mode: 0o700 });
  }

  const host: HostProcess = {
    name: spec.name,
    dir,
    busAddress: env.DBUS_SESSION_BUS_ADDRESS,
    runtimeDir: env.XDG_RUNTIME_DIR,
    configDir: env.XDG_CONFIG_HOME,
    env,
    systemdPid: 0,
    dbusPid: 0,
    cgroupPaths: await sliceDirs(slice),
  };
  try {
    // dbus gets a sibling leaf: on cgroup2 a process in user@0.service itself
    // would stop systemd from delegating controllers below it.
    host.dbusPid = await startDbus(dir, env, await makeCgroups(slice, 'dbus.service'));
    await waitFor(`bus socket of ${spec.name}`, async () => ((await stat(join(dir, 'run', 'bus'))).isSocket() ? true : undefined), { timeoutMs: 5_000, intervalMs: 10 });
    host.systemdPid = await startSystemd(dir, env, await makeCgroups(slice, 'user@0.service'));
    await joinBus(host);
    return host;
  } catch (err) {
    // Clean-up of a host that failed to start: the start's error is what the caller needs.
    await killHost(host).catch(() => undefined);
    throw err;
  }
}

/** Signal a recorded PID only while it still lives in this host's slice: a PID may have been reused. */
export async function ownedBy(host: HostProcess, pid: number): Promise<boolean> {
  if (pid <= 0) return false;
  const slice = host.cgroupPaths[0]?.split('/').pop();
  return slice !== undefined && (await procCgroups(pid)).some((p) => p.split('/').includes(slice));
}

export async function killHost(host: HostProcess): Promise<void> {
  // The manager first, so it cannot restart what the cgroup sweep kills.
  for (const pid of [host.systemdPid, host.dbusPid]) {
    if (await ownedBy(host, pid)) killQuietly(pid);
  }
  // Containers of the host's dockerd have cgroups below its slice in the controller hierarchies too.
  const slice = host.cgroupPaths[0]?.split('/').pop();
  await killCgroups([...host.cgroupPaths, ...(slice ? await controllerSliceDirs(slice) : [])]);
  // Power loss clears mounts and /run too; this also removes the bus and manager sockets.
  await unmountUnder(host.dir);
  await removeStaleShimSockets(host.dir);
  for (const d of runDirs(host.dir)) await rm(d, { recursive: true, force: true });
}

export async function systemctl(host: HostProcess, args: string[]): Promise<RunResult> {
  return run('systemctl', ['--user', ...args], {
    env: { ...managerEnv(host.env), SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
  });
}
