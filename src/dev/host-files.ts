/**
 * What a dev-cluster host carries on disk for flotillad: its config file, its
 * machine id and the flotillad.service unit its own systemd runs (as
 * fleet.service ran on a CoreOS host).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../util/errors.js';
import { DAEMON_NODE_FLAGS } from '../daemon/node-flags.js';
import { defaultClusterDir } from './private-dir.js';

export interface AgentFiles {
  machineId: string;
  publicIP: string;
  configPath: string;
  unitsDir: string;
  logPath: string;
}

export interface AgentConfig {
  hostDir: string;
  index: number;
  name: string;
  endpoints: string[];
  prefix: string;
  ttlSeconds: number;
  busAddress: string;
  configDir: string;
  extraConfig: Record<string, string>;
  /** More machine metadata besides hostname=<name> (e.g. role=worker). */
  metadata?: Record<string, string>;
  /** Advertised in the machine record for flotctl status/journal/ssh. */
  sshPort?: number;
}

/** dist/src/dev/host-files.js -> the repo root, which holds dist/src/daemon/main.js. */
export function daemonEntry(): string {
  return fileURLToPath(new URL('../../../dist/src/daemon/main.js', import.meta.url));
}

/** The host's API socket (api_socket), beside its config: each dev host has its own. */
export function apiSocketPath(hostDir: string): string {
  return join(hostDir, 'api.sock');
}

/** 127.0.1.1, 127.0.1.2, … 127.0.1.254, 127.0.2.1: distinct per host, all on loopback. */
export function publicIPFor(index: number): string {
  return `127.0.${1 + Math.floor(index / 254)}.${1 + (index % 254)}`;
}

/** Quote one ExecStart argument for systemd: specifiers (%) and variables ($) are doubled. */
function unitArg(s: string): string {
  const escaped = s.replaceAll('%', '%%').replaceAll('$', '$$');
  return /[\s"'\\;]/.test(escaped) ? `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : escaped;
}

/** A path used after `append:`, where quoting is not available. */
function unitPath(p: string): string {
  if (/[\s%$"'\\]/.test(p)) throw new InvalidInputError(`path ${p} holds whitespace or special characters; use a plain cluster dir such as ${defaultClusterDir()}`);
  return p;
}

/** key=value,key=value, as the metadata config line takes it; keys and values must not need quoting. */
export function renderMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata).map(([k, v]) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(k) || !/^[A-Za-z0-9_.:/-]*$/.test(v)) throw new InvalidInputError(`metadata ${k}=${v} must use letters, digits and . _ - (values also : /)`);
    return `${k}=${v}`;
  }).join(',');
}

export function renderConfig(c: AgentConfig, machineId: string, unitsDir: string): string {
  const lines: Record<string, string> = {
    etcd_servers: c.endpoints.join(','),
    etcd_key_prefix: c.prefix,
    machine_id: machineId,
    public_ip: publicIPFor(c.index),
    metadata: renderMetadata({ hostname: c.name, ...c.metadata }),
    agent_ttl: String(c.ttlSeconds),
    units_directory: unitsDir,
    systemd_bus_address: c.busAddress,
    log_format: 'text',
    // Remote commands must say `systemctl --user` to reach this host's manager.
    systemd_scope: 'user',
    ...(c.sshPort ? { ssh_port: String(c.sshPort) } : {}),
    api_socket: apiSocketPath(c.hostDir),
    // Hosts share one filesystem: each leader keeps its own copies of pull sources.
    git_cache_dir: join(c.hostDir, 'git-cache'),
  };
  return configText(lines, c.extraConfig);
}

/** key=value lines of flotillad.conf; `extra` (the cluster's extraConfig) wins over `lines`. */
export function configText(lines: Record<string, string>, extra: Record<string, string>): string {
  const all = { ...lines };
  for (const [k, v] of Object.entries(extra)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(k) || /[\r\n]/.test(v)) throw new InvalidInputError(`extra config ${k}=${v} is not a valid key=value line`);
    all[k] = v;
  }
  return Object.entries(all).map(([k, v]) => `${k}=${configValue(v)}\n`).join('');
}

/** Quoted when the config reader would otherwise refuse or trim it (see src/daemon/config-file.ts). */
function configValue(v: string): string {
  if (!/[#;]|^\s|\s$|^["']/.test(v)) return v;
  if (v.includes('"')) throw new InvalidInputError(`config value ${JSON.stringify(v)} needs quoting but holds '"'`);
  return `"${v}"`;
}

export function renderUnit(c: AgentConfig, configPath: string, logPath: string): string {
  const exec = [process.execPath, ...DAEMON_NODE_FLAGS, daemonEntry(), '--config', configPath].map(unitArg).join(' ');
  return [
    '[Unit]',
    `Description=Flotilla agent and engine (${c.name})`,
    '',
    '[Service]',
    `ExecStart=${exec}`,
    // A clean exit (0, or SIGTERM) is a deliberate stop; only crashes restart.
    'Restart=on-failure',
    'RestartSec=200ms',
    'TimeoutStopSec=15s',
    `Environment=${unitArg(`DBUS_SESSION_BUS_ADDRESS=${c.busAddress}`)}`,
    // No journald runs on these hosts: output would otherwise be dropped.
    `StandardOutput=append:${unitPath(logPath)}`,
    `StandardError=append:${unitPath(logPath)}`,
    '',
  ].join('\n');
}

/** Write config, machine-id, units dir and flotillad.service; the unit file is in place before systemd starts. */
export async function writeAgentFiles(c: AgentConfig): Promise<AgentFiles> {
  const machineId = randomBytes(16).toString('hex');
  const configPath = join(c.hostDir, 'flotillad.conf');
  const unitsDir = join(c.hostDir, 'units');
  const logPath = join(c.hostDir, 'flotillad.log');
  const userUnits = join(c.configDir, 'systemd', 'user');
  await mkdir(unitsDir, { recursive: true });
  await mkdir(userUnits, { recursive: true });
  await writeFile(join(c.hostDir, 'machine-id'), `${machineId}\n`);
  // Mode 0600: it may hold etcd_password.
  await writeFile(configPath, renderConfig(c, machineId, unitsDir), { mode: 0o600 });
  await writeFile(join(userUnits, 'flotillad.service'), renderUnit(c, configPath, logPath));
  return { machineId, publicIP: publicIPFor(c.index), configPath, unitsDir, logPath };
}
