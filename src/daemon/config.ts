/**
 * flotillad configuration: an INI file of top-level `key=value` lines (fleet's
 * format), overridden by FLOTILLA_<KEY> environment variables. Everything is
 * validated here with one-line errors naming the key and the fix; nothing
 * downstream sees an unchecked value.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'ini';
import { InvalidInputError } from '../util/errors.js';
import { parseEndpoints } from '../registry/store.js';
import { DEFAULT_PREFIX, normalizePrefix } from '../registry/keys.js';

export interface DaemonConfig {
  etcdServers: string[];
  etcdKeyPrefix: string;
  etcdRequestTimeoutMs: number;
  machineId: string;
  publicIP: string;
  metadata: Record<string, string>;
  agentTtlSeconds: number;
  unitsDirectory: string;
  systemdBusAddress: string | undefined;
  logFormat: 'text' | 'json';
  verbosity: number;
  disableEngine: boolean;
  /** Leave units running on SIGTERM so a new flotillad can adopt them (upgrade in place). */
  keepUnitsOnShutdown: boolean;
  /** Root under which the agent evaluates path Conditions (test aid for simulated hosts). */
  hostRoot: string;
  /** Advertised for flotctl status/journal/ssh. */
  sshPort: number;
  /** `user` when the bus is a user manager's: remote commands then need `systemctl --user`. */
  systemdScope: 'system' | 'user';
}

const KEYS = [
  'etcd_servers',
  'etcd_key_prefix',
  'etcd_request_timeout',
  'machine_id',
  'public_ip',
  'metadata',
  'agent_ttl',
  'units_directory',
  'systemd_bus_address',
  'log_format',
  'verbosity',
  'disable_engine',
  'keep_units_on_shutdown',
  'host_root',
  'ssh_port',
  'systemd_scope',
] as const;
type Key = (typeof KEYS)[number];

export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const raw: Partial<Record<Key, string>> = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InvalidInputError(`config file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): pass an existing file with --config`);
    }
    const parsed = parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'object') throw new InvalidInputError(`config file ${path}: sections like [${k}] are not supported: put key=value lines at the top level`);
      if (!(KEYS as readonly string[]).includes(k)) throw new InvalidInputError(`config file ${path}: unknown key "${k}": known keys are ${KEYS.join(', ')}`);
      raw[k as Key] = String(v);
    }
  }
  for (const k of KEYS) {
    const v = env[`FLOTILLA_${k.toUpperCase()}`];
    if (v !== undefined) raw[k] = v;
  }
  return fromRaw(raw, env);
}

function fromRaw(raw: Partial<Record<Key, string>>, env: NodeJS.ProcessEnv): DaemonConfig {
  const machineId = (raw.machine_id ?? readMachineId()).trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(machineId)) {
    throw new InvalidInputError(`machine_id "${machineId}" is not 32 hex characters: set machine_id in the config or fix /etc/machine-id`);
  }
  const logFormat = raw.log_format ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new InvalidInputError(`log_format "${logFormat}" is invalid: use text or json`);
  return {
    etcdServers: parseEndpoints(raw.etcd_servers ?? 'http://127.0.0.1:2379', 'etcd_servers'),
    etcdKeyPrefix: normalizePrefix(raw.etcd_key_prefix ?? DEFAULT_PREFIX),
    etcdRequestTimeoutMs: seconds('etcd_request_timeout', raw.etcd_request_timeout ?? '5', 0.1, 600) * 1000,
    machineId,
    publicIP: raw.public_ip ?? '',
    metadata: parseMetadata(raw.metadata ?? ''),
    agentTtlSeconds: Math.round(seconds('agent_ttl', raw.agent_ttl ?? '10', 2, 3600)),
    unitsDirectory: raw.units_directory ?? '/run/flotilla/units',
    systemdBusAddress: raw.systemd_bus_address ?? env.DBUS_SESSION_BUS_ADDRESS,
    logFormat,
    verbosity: Math.round(number('verbosity', raw.verbosity ?? '0', 0, 10)),
    disableEngine: bool('disable_engine', raw.disable_engine ?? 'false'),
    keepUnitsOnShutdown: bool('keep_units_on_shutdown', raw.keep_units_on_shutdown ?? 'false'),
    hostRoot: raw.host_root ?? '/',
    sshPort: port('ssh_port', raw.ssh_port ?? '22'),
    systemdScope: scope(raw.systemd_scope ?? 'system'),
  };
}

function port(key: string, text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidInputError(`${key} "${text}" is invalid: use a TCP port from 1 to 65535`);
  return n;
}

function scope(text: string): 'system' | 'user' {
  const t = text.trim().toLowerCase();
  if (t === 'system' || t === 'user') return t;
  throw new InvalidInputError(`systemd_scope "${text}" is invalid: use system (PID 1's manager) or user (a systemd --user manager)`);
}

function readMachineId(): string {
  try {
    return readFileSync('/etc/machine-id', 'utf8');
  } catch {
    throw new InvalidInputError('unable to determine the machine id: set machine_id in the config or create /etc/machine-id');
  }
}

/** fleet's format: `k=v,k2=v2`, spaces trimmed; entries without `=` ignored; last duplicate wins. */
export function parseMetadata(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.replace(/^"|"$/g, '').split(',')) {
    const i = item.indexOf('=');
    if (i <= 0) continue;
    const k = item.slice(0, i).trim();
    const v = item.slice(i + 1).trim();
    if (k && v) out[k] = v;
  }
  return out;
}

function number(key: string, text: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidInputError(`${key} "${text}" is invalid: use a number from ${min} to ${max}`);
  return n;
}

/** "10", "10s", "1.5s", "500ms" */
function seconds(key: string, text: string, min: number, max: number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new InvalidInputError(`${key} "${text}" is invalid: use seconds such as 10 or 10s`);
  const factor = m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1;
  return number(key, String(Number(m[1]) * factor), min, max);
}

function bool(key: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 't'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', 'f', ''].includes(t)) return false;
  throw new InvalidInputError(`${key} "${text}" is invalid: use true or false`);
}
