/**
 * A booted host of the dev cluster, from fresh disk to running system:
 *
 *   prepareBootedHost   mounts its own root (overlay over the cached rootfs)
 *                       and writes what makes it this machine: sshd on its
 *                       127.x address and port, its host key, the cluster's
 *                       client key for root. Nothing runs yet, so a caller
 *                       may write more files (a cloud-init seed, Ignition's
 *                       files stage) before booting it.
 *   installRelease      optional: flotillad from the release tarball into
 *                       /opt/flotilla, its config, flotillad.service enabled,
 *                       as an administrator would install it.
 *   bootHost            nspawn + systemd as PID 1, until boot has finished.
 *
 * The host's machine id is chosen here and given to nspawn (--uuid), so it
 * is known before boot and stays the same across power cycles.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '../../util/errors.js';
import { makeCgroups, sliceDirs } from '../cgroups.js';
import { run } from '../exec.js';
import { configText } from '../host-files.js';
import { ensureHostKey } from '../ssh.js';
import { hostRootPaths, mountHostRoot, type HostRootPaths } from './host-root.js';
import { execIn, startContainer, waitBooted, type Container } from './nspawn.js';

/** What cluster.json keeps of a booted host (besides the ClusterHost fields). */
export interface BootedState extends HostRootPaths {
  /** nspawn's machine name: the host name plus the slice tag, unique on the machine. */
  machine: string;
  nspawnPid: number;
  initPid: number;
  consoleLog: string;
  /** What the host was given: flotillad from the release, or nothing (its own bootstrap installs it). */
  install: 'release' | 'none';
}

export interface PrepareSpec {
  dir: string;
  name: string;
  /** Unique per host dir (see host.ts hostSlice). */
  slice: string;
  lower: string;
  publicIP: string;
  sshPort: number;
  authorizedKey: string;
  machineId?: string;
}

export interface PreparedHost {
  name: string;
  machineId: string;
  publicIP: string;
  sshPort: number;
  sshHostKey: string;
  /** The host's / as the machine sees it; write files here before boot. */
  root: string;
  paths: HostRootPaths;
  machine: string;
  slice: string;
  consoleLog: string;
}

export const SYSTEM_BUS = '/run/dbus/system_bus_socket';
const BOOT_TIMEOUT_MS = 90_000;

function sshdDropIn(address: string, port: number): string {
  return [
    '# Written by flotillad dev: hosts share the machine\'s network, so each sshd has its own address and port.',
    `ListenAddress ${address}:${port}`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PrintMotd no',
    '',
  ].join('\n');
}

export async function prepareBootedHost(s: PrepareSpec): Promise<PreparedHost> {
  const paths = hostRootPaths(s.dir, s.lower);
  await mkdir(s.dir, { recursive: true });
  await mountHostRoot(paths);
  const root = paths.root;
  const machineId = s.machineId ?? randomBytes(16).toString('hex');

  await mkdir(join(s.dir, 'sshd'), { recursive: true, mode: 0o700 });
  const hostKey = await ensureHostKey(join(s.dir, 'sshd'));
  await mkdir(join(root, 'etc', 'ssh', 'sshd_config.d'), { recursive: true });
  await writeFile(join(root, 'etc', 'ssh', 'sshd_config.d', 'flotilla-dev.conf'), sshdDropIn(s.publicIP, s.sshPort));
  await copyFile(hostKey.path, join(root, 'etc', 'ssh', 'ssh_host_ed25519_key'));
  await chmod(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key'), 0o600);
  await writeFile(join(root, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), `${hostKey.publicKey}\n`);
  await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${s.authorizedKey}\n`, { mode: 0o600 });
  await writeFile(join(root, 'etc', 'hostname'), `${s.name}\n`);
  await writeFile(join(root, 'etc', 'hosts'), `127.0.0.1 localhost\n${s.publicIP} ${s.name}\n`);

  const tag = s.slice.replace(/^flotilla-/, '').replace(/\.slice$/, '');
  return {
    name: s.name,
    machineId,
    publicIP: s.publicIP,
    sshPort: s.sshPort,
    sshHostKey: hostKey.publicKey,
    root,
    paths,
    machine: tag.slice(0, 64),
    slice: s.slice,
    consoleLog: join(s.dir, 'console.log'),
  };
}

export interface ReleaseInstall {
  tarball: string;
  /** flotillad.conf lines (etcd_servers, metadata, ...); public_ip and ssh_port are added. */
  config: Record<string, string>;
  extraConfig: Record<string, string>;
}

/** Install flotillad from the release tarball, as the README's install steps do, into the unbooted host. */
export async function installRelease(h: PreparedHost, r: ReleaseInstall): Promise<void> {
  const opt = join(h.root, 'opt', 'flotilla');
  await mkdir(opt, { recursive: true });
  const untar = await run('tar', ['-xzf', r.tarball, '-C', opt]);
  if (untar.code !== 0) throw new FlotillaError(`unpacking ${r.tarball} into ${h.name} failed: ${untar.stderr.trim()}`);
  await mkdir(join(h.root, 'etc', 'flotilla'), { recursive: true });
  const conf = configText({ ...r.config, public_ip: h.publicIP, ssh_port: String(h.sshPort) }, r.extraConfig);
  await writeFile(join(h.root, 'etc', 'flotilla', 'flotillad.conf'), conf, { mode: 0o600 });
  await copyFile(join(opt, 'flotillad.service'), join(h.root, 'etc', 'systemd', 'system', 'flotillad.service'));
  const enable = await run('systemctl', [`--root=${h.root}`, 'enable', 'flotillad.service']);
  if (enable.code !== 0) throw new FlotillaError(`enabling flotillad.service in ${h.name} failed: ${enable.stderr.trim()}`);
  // Nothing seeds cloud-init on such a host; its generator would only spend boot time finding that out.
  await mkdir(join(h.root, 'etc', 'cloud'), { recursive: true });
  await writeFile(join(h.root, 'etc', 'cloud', 'cloud-init.disabled'), 'flotillad dev: installed from the release\n');
}

export interface Booted { container: Container; cgroupPaths: string[]; bootMs: number; state: string }

/** Power the prepared host on; resolves once systemd says the boot has finished. */
export async function bootHost(h: PreparedHost): Promise<Booted> {
  const t0 = Date.now();
  const cgroups = await makeCgroups(h.slice, 'nspawn');
  const container = await startContainer({
    machine: h.machine,
    hostname: h.name,
    root: h.root,
    machineId: h.machineId,
    cgroups,
    consoleLog: h.consoleLog,
  });
  const cgroupPaths = await sliceDirs(h.slice);
  try {
    const state = await waitBooted(container.initPid, BOOT_TIMEOUT_MS);
    return { container, cgroupPaths, bootMs: Date.now() - t0, state };
  } catch (err) {
    const log = (await readFile(h.consoleLog, 'utf8').catch(() => '')).trim().split('\n').slice(-2).join(' | ');
    throw new FlotillaError(`${h.name}: ${(err as Error).message}${log ? ` (console: ${log})` : ''}`);
  }
}

/** The host's system bus, reachable from the machine through its init's root. */
export function systemBusAddress(initPid: number): string {
  return `unix:path=/proc/${initPid}/root${SYSTEM_BUS}`;
}

/** Last lines flotillad wrote to the host's journal (for start-up failure messages). */
export async function flotilladJournal(initPid: number, lines = 3): Promise<string> {
  const r = await execIn(initPid, ['journalctl', '-u', 'flotillad.service', '-n', String(lines), '--no-pager', '-o', 'cat']);
  return r.stdout.trim().split('\n').join(' | ') || '(no journal entries)';
}
