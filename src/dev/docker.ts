/**
 * A real Docker engine per dev host: containerd.service and docker.service
 * in the host's own systemd, so the engine, its containerd and shims live in
 * the host's cgroup, and containers get cgroups below the host's slice
 * (--cgroup-parent=/<slice>/docker). A host's power loss therefore kills its
 * containers with everything else. Every path is the host's own (data root,
 * exec root, sockets, pid file, containerd root and state), so several
 * engines share the machine without touching each other; dockerd is given
 * its containerd explicitly, since dockerd 20.10 silently uses a system
 * containerd whenever /run/containerd/containerd.sock exists.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '../util/errors.js';
import { findExecutable } from './exec.js';

export const DOCKER_UNIT = 'docker.service';
export const CONTAINERD_UNIT = 'containerd.service';

/** containerd puts every shim's socket here, named by a hash of its own address, namespace and container id. */
const SHIM_SOCKET_DIR = '/run/containerd/s';
/** dockerd's containerd namespace. */
const DOCKER_NAMESPACE = 'moby';
const MAX_SOCKET_PATH = 107;

export interface DockerPaths {
  /** Configs, logs and the data that outlives a power cycle (as /var/lib/docker would). */
  dir: string;
  dataRoot: string;
  containerdRoot: string;
  /** Cleared at every power-on and power loss, as /run is. */
  execRoot: string;
  containerdState: string;
  containerdSocket: string;
  socket: string;
  pidFile: string;
}

export function dockerPaths(hostDir: string): DockerPaths {
  const run = join(hostDir, 'run');
  const dir = join(hostDir, 'docker');
  return {
    dir,
    dataRoot: join(dir, 'data'),
    containerdRoot: join(dir, 'containerd'),
    execRoot: join(run, 'docker'),
    containerdState: join(run, 'containerd'),
    containerdSocket: join(run, 'containerd', 'containerd.sock'),
    socket: join(run, 'docker.sock'),
    pidFile: join(run, 'docker.pid'),
  };
}

/** What `docker` needs in a host's environment to talk to that host's engine. */
export function dockerEnv(hostDir: string): Record<string, string> {
  return { DOCKER_HOST: `unix://${dockerPaths(hostDir).socket}` };
}

function plain(value: string): string {
  if (/[\s"'\\%$]/.test(value)) throw new FlotillaError(`path ${value} holds whitespace or special characters; use a plain cluster dir`);
  return value;
}

function renderContainerdConfig(p: DockerPaths): string {
  return [
    'version = 2',
    `root = "${p.containerdRoot}"`,
    `state = "${p.containerdState}"`,
    // Docker needs none of the CRI plugin; a kubelet on a real host would (see units/kubernetes/README.md).
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = "${p.containerdSocket}"`,
    '',
    '[debug]',
    '  address = ""',
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(p.containerdRoot, 'opt')}"`,
    '',
  ].join('\n');
}

/**
 * A Type=notify daemon of the host (both tell systemd when they are ready):
 * KillMode=mixed stops the daemon first (dockerd stops its containers on
 * SIGTERM), then kills whatever is left in the unit (shims that outlived
 * their containers), so a stop leaves nothing behind.
 */
function renderDaemonUnit(o: { description: string; requires?: string; argv: string[]; log: string; extra?: string[] }): string {
  const log = plain(o.log);
  return [
    '[Unit]',
    `Description=${o.description}`,
    ...(o.requires ? [`Requires=${o.requires}`, `After=${o.requires}`] : []),
    '',
    '[Service]',
    'Type=notify',
    `ExecStart=${o.argv.map(plain).join(' ')}`,
    'KillMode=mixed',
    ...(o.extra ?? []),
    'Restart=on-failure',
    'RestartSec=1s',
    `StandardOutput=append:${log}`,
    `StandardError=append:${log}`,
    '',
  ].join('\n');
}

export function dockerdArgs(p: DockerPaths, slice: string): string[] {
  return [
    `--containerd=${p.containerdSocket}`,
    `--data-root=${p.dataRoot}`,
    `--exec-root=${p.execRoot}`,
    `--pidfile=${p.pidFile}`,
    `--host=unix://${p.socket}`,
    `--config-file=${join(p.dir, 'daemon.json')}`,
    // Containers below the host's slice in every hierarchy: the host's power loss kills them too.
    `--cgroup-parent=/${slice}/docker`,
    // What works on this machine kind (booted-hosts-notes §5): no iptables, no bridge, vfs storage.
    '--iptables=false',
    '--ip-masq=false',
    '--bridge=none',
    '--userland-proxy=false',
    '--storage-driver=vfs',
  ];
}

/** Configs and the two units for one host; the data dirs are made by the daemons themselves. */
export async function writeDockerFiles(hostDir: string, userUnitsDir: string, slice: string): Promise<DockerPaths> {
  const p = dockerPaths(hostDir);
  for (const s of [`${p.containerdSocket}.ttrpc`, p.socket]) {
    if (Buffer.byteLength(s) > MAX_SOCKET_PATH) throw new FlotillaError(`host dir ${hostDir} is too long for Docker: socket path ${s} exceeds ${MAX_SOCKET_PATH} bytes`);
  }
  const [containerd, dockerd] = await Promise.all([
    findExecutable('containerd', ['/usr/bin/containerd']),
    findExecutable('dockerd', ['/usr/sbin/dockerd', '/usr/bin/dockerd']),
  ]).catch(() => {
    throw new FlotillaError("dockerd or containerd not found: run 'bash src/dev/ensure-deps.sh' (installs docker.io)");
  });
  await mkdir(p.dir, { recursive: true });
  await mkdir(userUnitsDir, { recursive: true });
  await writeFile(join(p.dir, 'containerd.toml'), renderContainerdConfig(p));
  // An empty config file of its own: /etc/docker/daemon.json is the machine's, not this host's.
  await writeFile(join(p.dir, 'daemon.json'), '{}\n');
  await writeFile(join(userUnitsDir, CONTAINERD_UNIT), renderDaemonUnit({
    description: 'containerd of this dev host',
    argv: [containerd, '--config', join(p.dir, 'containerd.toml')],
    log: join(p.dir, 'containerd.log'),
  }));
  await writeFile(join(userUnitsDir, DOCKER_UNIT), renderDaemonUnit({
    description: 'Docker Engine of this dev host',
    requires: CONTAINERD_UNIT,
    argv: [dockerd, ...dockerdArgs(p, slice)],
    log: join(p.dir, 'dockerd.log'),
    extra: ['TimeoutStopSec=30s'],
  }));
  return p;
}

/** Where containerd put the shim socket of container `id` of this host's engine. */
export function shimSocket(hostDir: string, id: string): string {
  const digest = createHash('sha256').update(`${dockerPaths(hostDir).containerdSocket}/${DOCKER_NAMESPACE}/${id}`).digest('hex');
  return join(SHIM_SOCKET_DIR, digest);
}

/**
 * After a power loss: the killed shims' sockets stay in the machine-wide
 * /run/containerd/s. They are named after this host's containerd address and
 * the container ids, which the data root still lists.
 */
export async function removeStaleShimSockets(hostDir: string): Promise<void> {
  const p = dockerPaths(hostDir);
  let ids: string[];
  try {
    ids = await readdir(join(p.dataRoot, 'containers'));
  } catch {
    return;
  }
  for (const id of ids) await rm(shimSocket(hostDir, id), { force: true });
}

/** The engine's data (images unpacked by vfs are big); configs and logs stay for post-mortems. */
export async function removeDockerData(hostDir: string): Promise<void> {
  const p = dockerPaths(hostDir);
  await rm(p.dataRoot, { recursive: true, force: true });
  await rm(p.containerdRoot, { recursive: true, force: true });
}
