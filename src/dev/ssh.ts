/**
 * A real sshd per dev host, so flotctl status/journal/ssh work against the
 * dev cluster exactly as against real machines. Each host's sshd listens on
 * the host's own 127.x address, runs as a service of the host's systemd (so a
 * host's power loss takes it down too), and sets the session's HOME, XDG
 * dirs and bus address so that `systemctl --user` in a session acts on that
 * host. One client key per cluster; known_hosts lists every host's key.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import ssh2 from 'ssh2';
import { hostPattern } from '../client/remote/known-hosts.js';
import { FlotillaError, errorMessage } from '../util/errors.js';
import { portIsFree } from './ports.js';

export interface ClientKey {
  /** OpenSSH private key file: FLOTCTL_SSH_IDENTITY. */
  identityPath: string;
  publicKey: string;
  knownHostsPath: string;
}

export interface SshdSpec {
  hostDir: string;
  address: string;
  port: number;
  /** Unit files of the host's systemd go here. */
  userUnitsDir: string;
  /** The session environment: HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS of the host. */
  sessionEnv: Record<string, string>;
  authorizedKey: string;
  sshdPath: string;
}

/** The unit the host's systemd runs. */
export const SSHD_UNIT = 'sshd.service';

const LOW = 20_000;
const HIGH = 32_000;

function keyPair(comment: string): { privateKey: string; publicKey: string } {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}

/** The cluster's client key pair, made once and kept across host restarts. */
export async function ensureClientKey(clusterDir: string): Promise<ClientKey> {
  const dir = join(clusterDir, 'ssh');
  const identityPath = join(dir, 'id_ed25519');
  const knownHostsPath = join(dir, 'known_hosts');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    return { identityPath, publicKey: (await readFile(`${identityPath}.pub`, 'utf8')).trim(), knownHostsPath };
  } catch {
    const pair = keyPair('flotilla-dev-client');
    await writeFile(identityPath, pair.privateKey, { mode: 0o600 });
    await writeFile(`${identityPath}.pub`, `${pair.publicKey}\n`);
    return { identityPath, publicKey: pair.publicKey, knownHostsPath };
  }
}

/** A port free on `address`, drawn below the ephemeral range as the etcd ports are. */
export async function freeSshPort(address: string): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await portIsFree(port, address)) return port;
  }
  throw new FlotillaError(`no free port for sshd on ${address} in ${LOW}-${HIGH}`);
}

/** The host key stays across power cycles, as a real host's does; returns its public line. */
export async function ensureHostKey(dir: string): Promise<{ path: string; publicKey: string }> {
  const path = join(dir, 'ssh_host_ed25519_key');
  try {
    return { path, publicKey: (await readFile(`${path}.pub`, 'utf8')).trim() };
  } catch {
    const pair = keyPair('flotilla-dev-host');
    await writeFile(path, pair.privateKey, { mode: 0o600 });
    await writeFile(`${path}.pub`, `${pair.publicKey}\n`);
    // sshd refuses a host key others can read, whatever umask wrote it.
    await chmod(path, 0o600);
    return { path, publicKey: pair.publicKey };
  }
}

function plain(value: string, what: string): string {
  if (/[\s"'\\%$]/.test(value)) throw new FlotillaError(`${what} ${value} holds whitespace or special characters; use a plain cluster dir`);
  return value;
}

export function renderSshdConfig(s: SshdSpec, hostKeyPath: string, authorizedKeysPath: string): string {
  const env = Object.entries(s.sessionEnv).map(([k, v]) => `${k}=${plain(v, k)}`).join(' ');
  return [
    `ListenAddress ${s.address}:${s.port}`,
    `HostKey ${plain(hostKeyPath, 'host key path')}`,
    `AuthorizedKeysFile ${plain(authorizedKeysPath, 'authorized keys path')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // Cluster dirs may live under /tmp, whose modes StrictModes rejects.
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'PidFile none',
    'LogLevel ERROR',
    // The session acts on this host's systemd; HOME also skips ~190 ms of shell start-up (test-cluster-notes).
    `SetEnv ${env} SYSTEMD_PAGER= SYSTEMD_COLORS=0`,
    '',
  ].join('\n');
}

function renderSshdUnit(s: SshdSpec, configPath: string): string {
  return [
    '[Unit]',
    'Description=OpenSSH server of this dev host',
    '',
    '[Service]',
    // Privilege separation needs it; it is machine-wide and harmless to share.
    'ExecStartPre=/bin/mkdir -p /run/sshd',
    `ExecStart=${plain(s.sshdPath, 'sshd path')} -D -e -f ${plain(configPath, 'sshd config path')}`,
    'Restart=on-failure',
    'RestartSec=200ms',
    `StandardError=append:${plain(join(s.hostDir, 'sshd', 'sshd.log'), 'sshd log path')}`,
    '',
  ].join('\n');
}

/** Host key, config and sshd.service for one host; returns the host's public key line. */
export async function writeSshdFiles(s: SshdSpec): Promise<string> {
  const dir = join(s.hostDir, 'sshd');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = await ensureHostKey(dir);
  const authorized = join(dir, 'authorized_keys');
  const configPath = join(dir, 'sshd_config');
  await writeFile(authorized, `${s.authorizedKey}\n`, { mode: 0o600 });
  await writeFile(configPath, renderSshdConfig(s, hostKey.path, authorized));
  await mkdir(s.userUnitsDir, { recursive: true });
  await writeFile(join(s.userUnitsDir, SSHD_UNIT), renderSshdUnit(s, configPath));
  return hostKey.publicKey;
}

/** Whether something accepts TCP connections on address:port. */
export function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A known_hosts line for a host key, as flotctl (and OpenSSH) look it up. */
export function knownHostsLine(address: string, port: number, publicKey: string): string {
  const [type, blob] = publicKey.split(/\s+/);
  return `${hostPattern(address, port)} ${type} ${blob}`;
}

export async function writeKnownHosts(path: string, hosts: ReadonlyArray<{ publicIP: string; sshPort?: number; sshHostKey?: string }>): Promise<void> {
  const lines = hosts.flatMap((h) => (h.sshPort && h.sshHostKey ? [knownHostsLine(h.publicIP, h.sshPort, h.sshHostKey)] : []));
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  } catch (err) {
    throw new FlotillaError(`cannot write ${path}: ${errorMessage(err)}`);
  }
}
