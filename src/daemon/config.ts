/**
 * flotillad configuration: fleet's file format (top-level `key=value` lines,
 * see config-file.ts) and fleet's option names and value syntaxes, overridden
 * by FLOTILLA_<KEY> environment variables. Everything is validated here with
 * one-line errors naming the key, the value and the fix; nothing downstream
 * sees an unchecked value. Keys are declared once, in KEYS: whether fleet had
 * them, and whether they still do anything (and why not). What SIGHUP can
 * change is reload.ts's business.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../util/errors.js';
import { parseEndpoints } from '../registry/store.js';
import { DEFAULT_PREFIX, normalizePrefix } from '../registry/keys.js';
import { MACHINE_ID, TTL_SECONDS_MAX } from '../registry/records.js';
import { DAEMON_CREDENTIAL_NAMES, checkCredentials, loadStoreSecurity, type StoreCredentials, type StoreSecurity } from '../registry/store-security.js';
import { parseConfigText } from './config-file.js';
import { parseApiConfig, type ApiConfig } from './config-api.js';
import { parseGitConfig, parseMetricsAddress, type GitConfig } from './config-extras.js';
import type { ListenAddress } from '../metrics/http.js';
import { parseAbsolutePath, parseBool, parseIP, parseInteger, parseMetadata, parsePort, parseSeconds, parseWholeSeconds } from './config-values.js';

export interface DaemonConfig {
  etcdServers: string[];
  etcdKeyPrefix: string;
  etcdRequestTimeoutMs: number;
  /** TLS material and user for etcd, files already read and checked. */
  etcdSecurity: StoreSecurity;
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
  /** The API's listeners and page size (config-api.ts). */
  api: ApiConfig;
  /** A TCP listener for /metrics alone (config-extras.ts); absent: the API listeners serve it. */
  metricsAddress?: ListenAddress;
  /** Pull sources: how the leading engine fetches them (config-extras.ts). */
  git: GitConfig;
}

export interface LoadedConfig {
  config: DaemonConfig;
  /** Accepted but worth saying: options that no longer apply, ignored metadata entries, loose permissions. */
  warnings: string[];
}

interface KeySpec {
  /** fleet had this option (same name, same value syntax). */
  fleet?: true;
  /** Accepted but without effect: why, for the start-up warning. */
  ignored?: string;
}

export const KEYS = {
  etcd_servers: { fleet: true },
  etcd_key_prefix: { fleet: true },
  etcd_request_timeout: { fleet: true },
  etcd_cafile: { fleet: true },
  etcd_certfile: { fleet: true },
  etcd_keyfile: { fleet: true },
  etcd_username: { fleet: true },
  etcd_password: { fleet: true },
  machine_id: {},
  public_ip: { fleet: true },
  metadata: { fleet: true },
  agent_ttl: { fleet: true },
  units_directory: { fleet: true },
  systemd_user: { fleet: true },
  systemd_bus_address: {},
  systemd_scope: {},
  ssh_port: {},
  host_root: {},
  log_format: {},
  verbosity: { fleet: true },
  disable_engine: { fleet: true },
  keep_units_on_shutdown: {},
  api_socket: {},
  api_socket_group: {},
  api_address: {},
  api_cafile: {},
  api_certfile: {},
  api_keyfile: {},
  metrics_address: {},
  git_ssh_key: {},
  git_known_hosts: {},
  git_host_key_checking: {},
  git_cache_dir: {},
  engine_reconcile_interval: {
    fleet: true,
    ignored: 'the engine acts on every change as etcd reports it instead of polling, and its leadership lasts as long as its agent_ttl lease',
  },
  token_limit: { fleet: true },
  enable_grpc: { fleet: true, ignored: 'engine and agents always talk through etcd; there is no separate gRPC channel' },
  disable_watches: { fleet: true, ignored: 'watches are how Flotilla follows etcd (polling instead would cost O(keys) per tick)' },
  verify_units: { fleet: true, ignored: 'fleet had already dropped it (unit signing)' },
  authorized_keys_file: { fleet: true, ignored: 'fleet had already dropped it (unit signing)' },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;
type Raw = Partial<Record<ConfigKey, string>>;

const KEY_NAMES = Object.keys(KEYS) as ConfigKey[];
const SPECS: Record<ConfigKey, KeySpec> = KEYS;
/** Environment variables flotillad itself reads besides FLOTILLA_<KEY>. */
const OTHER_ENV = new Set(['FLOTILLA_DEBUG']);

export const DEFAULT_CONFIG_FILE = '/etc/flotilla/flotillad.conf';

function isKey(k: string): k is ConfigKey {
  return Object.hasOwn(KEYS, k);
}

/** The config file (if any) and the environment, validated; throws one-line InvalidInputErrors. */
export function readConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const raw: Raw = {};
  const warnings: string[] = [];
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidInputError(`config file ${path} cannot be read (${code}): pass an existing file with --config`);
    }
    for (const { key, value, line } of parseConfigText(text, path)) {
      if (!isKey(key)) throw new InvalidInputError(`config file ${path} line ${line}: unknown key "${key}": known keys are ${KEY_NAMES.join(', ')}`);
      raw[key] = value;
    }
  }
  for (const k of KEY_NAMES) {
    const v = env[`FLOTILLA_${k.toUpperCase()}`];
    if (v !== undefined) raw[k] = v;
  }
  warnings.push(...environmentWarnings(env));
  for (const k of KEY_NAMES) {
    const why = SPECS[k].ignored;
    if (why && raw[k] !== undefined) warnings.push(`${k} is accepted but ignored: ${why}`);
  }
  const { config, warnings: more } = fromRaw(raw, env);
  warnings.push(...more);
  if (path !== undefined && raw.etcd_password !== undefined) warnings.push(...readableByOthers(path, 'holds etcd_password'));
  if (config.etcdSecurity.credentials.keyFile) warnings.push(...readableByOthers(config.etcdSecurity.credentials.keyFile, 'is the etcd client key'));
  return { config, warnings };
}

/** readConfig without the warnings. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  return readConfig(path, env).config;
}

/**
 * fleet read FLEET_<KEY>; Flotilla reads only FLOTILLA_<KEY>, so a host that
 * runs fleet and Flotilla side by side during a migration never mixes their
 * settings. A FLEET_ variable flotillad would have honoured is named, as is a
 * FLOTILLA_ variable that sets nothing (a typo).
 */
function environmentWarnings(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith('FLEET_')) {
      const key = name.slice(6).toLowerCase();
      if (isKey(key)) out.push(`${name} is set but not read: Flotilla reads FLOTILLA_${key.toUpperCase()}`);
    } else if (name.startsWith('FLOTILLA_') && !OTHER_ENV.has(name) && !name.startsWith('FLOTILLA_DEV_')) {
      if (!isKey(name.slice(9).toLowerCase())) out.push(`${name} is set but is no setting of flotillad: known keys are ${KEY_NAMES.join(', ')}`);
    }
  }
  return out;
}

function readableByOthers(path: string, what: string): string[] {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o044) return [`${path} ${what} but is readable by other users (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 ${path}`];
  } catch {
    // unreadable files were refused already
  }
  return [];
}

function fromRaw(raw: Raw, env: NodeJS.ProcessEnv): LoadedConfig {
  const warnings: string[] = [];
  const machineId = (raw.machine_id ?? readMachineId()).trim().toLowerCase();
  if (!MACHINE_ID.test(machineId)) {
    throw new InvalidInputError(`machine_id "${machineId}" is not 32 hex characters: set machine_id in the config or fix /etc/machine-id`);
  }
  const logFormat = (raw.log_format ?? 'text').trim();
  if (logFormat !== 'text' && logFormat !== 'json') throw new InvalidInputError(`log_format "${logFormat}" is invalid: use text or json`);
  const etcdServers = parseEndpoints(raw.etcd_servers ?? 'http://127.0.0.1:2379', 'etcd_servers');
  const credentials = storeCredentials(raw);
  warnings.push(...checkCredentials(credentials, etcdServers, DAEMON_CREDENTIAL_NAMES));
  const metadata = parseMetadata('metadata', raw.metadata ?? '');
  warnings.push(...metadata.ignored);
  const config: DaemonConfig = {
    etcdServers,
    etcdKeyPrefix: normalizePrefix(raw.etcd_key_prefix ?? DEFAULT_PREFIX),
    etcdRequestTimeoutMs: Math.round(parseSeconds('etcd_request_timeout', raw.etcd_request_timeout ?? '5', 0.1, 600) * 1000),
    etcdSecurity: loadStoreSecurity(credentials, DAEMON_CREDENTIAL_NAMES),
    machineId,
    publicIP: parseIP('public_ip', raw.public_ip ?? ''),
    metadata: metadata.metadata,
    agentTtlSeconds: parseWholeSeconds('agent_ttl', raw.agent_ttl ?? '10', 2, TTL_SECONDS_MAX),
    unitsDirectory: unitsDirectory(raw.units_directory ?? '/run/flotilla/units', env),
    systemdBusAddress: raw.systemd_bus_address ?? env.DBUS_SESSION_BUS_ADDRESS,
    logFormat,
    verbosity: parseInteger('verbosity', raw.verbosity ?? '0', 0, 10),
    disableEngine: parseBool('disable_engine', raw.disable_engine ?? 'false'),
    keepUnitsOnShutdown: parseBool('keep_units_on_shutdown', raw.keep_units_on_shutdown ?? 'false'),
    hostRoot: hostRoot(raw.host_root ?? '/'),
    sshPort: parsePort('ssh_port', raw.ssh_port ?? '22'),
    systemdScope: scope(raw),
    api: parseApiConfig(raw),
    git: parseGitConfig(raw),
  };
  const metricsAddress = parseMetricsAddress(raw);
  if (metricsAddress) config.metricsAddress = metricsAddress;
  return { config, warnings };
}

function storeCredentials(raw: Raw): StoreCredentials {
  const c: StoreCredentials = {};
  const file = (key: 'etcd_cafile' | 'etcd_certfile' | 'etcd_keyfile'): string | undefined =>
    raw[key] === undefined || raw[key].trim() === '' ? undefined : parseAbsolutePath(key, raw[key], `/etc/flotilla/${key.slice(5)}.pem`);
  const ca = file('etcd_cafile');
  const cert = file('etcd_certfile');
  const key = file('etcd_keyfile');
  if (ca) c.caFile = ca;
  if (cert) c.certFile = cert;
  if (key) c.keyFile = key;
  // Passwords are taken as written: blanks may be part of one.
  if (raw.etcd_username !== undefined && raw.etcd_username.trim() !== '') c.username = raw.etcd_username.trim();
  if (raw.etcd_password !== undefined && raw.etcd_password !== '') c.password = raw.etcd_password;
  return c;
}

/** fleet's systemd_user=true is systemd_scope=user; both given must agree. */
function scope(raw: Raw): 'system' | 'user' {
  const fromUser = raw.systemd_user === undefined ? undefined : parseBool('systemd_user', raw.systemd_user) ? 'user' : 'system';
  if (raw.systemd_scope === undefined) return fromUser ?? 'system';
  const t = raw.systemd_scope.trim().toLowerCase();
  if (t !== 'system' && t !== 'user') {
    throw new InvalidInputError(`systemd_scope "${raw.systemd_scope}" is invalid: use system (PID 1's manager) or user (a systemd --user manager)`);
  }
  if (fromUser !== undefined && fromUser !== t) {
    throw new InvalidInputError(`systemd_user=${raw.systemd_user} contradicts systemd_scope=${raw.systemd_scope}: keep one (systemd_user is fleet's name for systemd_scope=user)`);
  }
  return t;
}

/**
 * The agent adopts every unit file in its units directory and removes those
 * not assigned to it: a directory systemd itself loads units from would lose
 * the host's own units. Refused: `/` and systemd's unit search paths.
 */
export function unitsDirectory(text: string, env: NodeJS.ProcessEnv): string {
  const dir = parseAbsolutePath('units_directory', text, '/run/flotilla/units');
  const forbidden = new Set(['/', ...systemdUnitDirs(env)]);
  if (forbidden.has(dir)) {
    const what = dir === '/' ? 'the root directory' : 'a directory systemd loads units from';
    throw new InvalidInputError(`units_directory "${text}" is ${what}: Flotilla adopts and removes unit files there; give a directory of its own such as /run/flotilla/units`);
  }
  return dir;
}

function systemdUnitDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  for (const base of ['/etc/systemd', '/run/systemd', '/usr/lib/systemd', '/lib/systemd', '/usr/local/lib/systemd']) {
    dirs.push(`${base}/system`, `${base}/user`);
  }
  dirs.push('/run/systemd/transient', '/run/systemd/generator', '/run/systemd/generator.early', '/run/systemd/generator.late');
  const home = env.HOME;
  const config = env.XDG_CONFIG_HOME ?? (home ? join(home, '.config') : undefined);
  if (config) dirs.push(join(config, 'systemd', 'user'));
  if (home) dirs.push(join(home, '.config', 'systemd', 'user'));
  if (env.XDG_RUNTIME_DIR) dirs.push(join(env.XDG_RUNTIME_DIR, 'systemd', 'user'), join(env.XDG_RUNTIME_DIR, 'systemd', 'transient'));
  return dirs;
}

function hostRoot(text: string): string {
  const dir = parseAbsolutePath('host_root', text, '/');
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new InvalidInputError(`host_root "${text}" is not an existing directory: give the directory path Conditions are checked under (default /)`);
  return dir;
}

function readMachineId(): string {
  try {
    return readFileSync('/etc/machine-id', 'utf8');
  } catch {
    throw new InvalidInputError('unable to determine the machine id: set machine_id in the config or create /etc/machine-id');
  }
}
