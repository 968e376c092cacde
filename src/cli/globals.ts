/**
 * Global flags and their FLOTCTL_<NAME> environment forms. Precedence: the
 * command line, then the environment, then the default (fleetctl's order).
 * Resolved here rather than by commander's env support so booleans read
 * "false"/"0" as false and a bad value names the variable it came from.
 *
 * Fail closed: a variable that is set but empty or blank counts as unset, so
 * `FLOTCTL_STRICT_HOST_KEY_CHECKING=` keeps the default (true) instead of
 * reading as false (fleetctl also ignored empty variables). An empty value on
 * the command line is only accepted where it means something (no tunnel, no
 * identity file); a boolean, a file or a user name must be given.
 */
import { homedir } from 'node:os';
import { DEFAULT_PREFIX } from '../registry/keys.js';
import type { CredentialNames, StoreCredentials } from '../registry/store-security.js';
import { UsageError } from '../util/errors.js';

export type Driver = 'api' | 'etcd';

export interface GlobalOptions {
  /** How flotctl reaches the cluster: flotillad's API, or etcd directly. */
  driver: Driver;
  /** As given (or the driver's default); validated when a client is created (see session.ts), so help and version stay fast. */
  endpoint: string;
  /** Which flag or variable the endpoint came from, for error messages. */
  endpointSource: string;
  etcdKeyPrefix: string;
  /** Whether --etcd-key-prefix was given on the command line (the API driver warns that it serves its daemon's prefix). */
  etcdKeyPrefixOnCommandLine: boolean;
  requestTimeoutMs: number;
  debug: boolean;
  json: boolean;
  ssh: SshGlobals;
  store: StoreGlobals;
}

/** TLS material and etcd user (--ca-file, --cert-file, --key-file, --username, --password). */
export interface StoreGlobals {
  credentials: StoreCredentials;
  /** The flag or variable each came from, for messages. */
  names: CredentialNames;
  /** --password was on the command line, where `ps` shows it to every user. */
  passwordInArgv: boolean;
}

/** How status, journal and ssh reach machines (fleetctl's SSH flags, plus --ssh-identity). */
export interface SshGlobals {
  /** host:port of a bastion; port 22 when not given. */
  tunnel?: { address: string; port: number };
  username: string;
  identityFile?: string;
  knownHostsFile: string;
  strictHostKeyChecking: boolean;
  timeoutMs: number;
  /** SSH_AUTH_SOCK, when an agent runs. */
  agentSocket?: string;
}

export interface GlobalFlag {
  /** commander attribute name */
  key: 'driver' | 'endpoint' | 'etcdKeyPrefix' | 'requestTimeout' | 'debug' | 'json' | 'tunnel' | 'sshUsername' | 'sshIdentity' | 'knownHostsFile' | 'strictHostKeyChecking' | 'sshTimeout' | StoreFlagKey;
  flags: string;
  description: string;
  /** Shown in help; applied only when neither the command line nor the environment sets it. */
  default?: string;
  boolean: boolean;
}

type StoreFlagKey = 'caFile' | 'certFile' | 'keyFile' | 'username' | 'password';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
/** The API driver's endpoint unless --endpoint says otherwise (fleetctl's was unix:///var/run/fleet.sock). */
export const DEFAULT_API_ENDPOINT = 'unix:///var/run/flotilla.sock';
/** fleetctl's default was its API too (issue 12); --driver etcd talks to etcd directly. */
export const DEFAULT_DRIVER: Driver = 'api';
export const DEFAULT_REQUEST_TIMEOUT = '3';
export const DEFAULT_KNOWN_HOSTS = '~/.flotctl/known_hosts';

export const GLOBAL_FLAGS: readonly GlobalFlag[] = [
  { key: 'driver', flags: '--driver <api|etcd>', description: "talk to flotillad's API or to etcd directly", default: DEFAULT_DRIVER, boolean: false },
  {
    key: 'endpoint',
    flags: '--endpoint <urls>',
    description: `flotillad's API, unix:///path or http(s)://host:port; with --driver etcd, comma-separated etcd URLs, default ${DEFAULT_ENDPOINT}`,
    default: DEFAULT_API_ENDPOINT,
    boolean: false,
  },
  { key: 'etcdKeyPrefix', flags: '--etcd-key-prefix <prefix>', description: 'keyspace of the cluster in etcd', default: DEFAULT_PREFIX, boolean: false },
  { key: 'requestTimeout', flags: '--request-timeout <seconds>', description: 'deadline of each request to etcd', default: DEFAULT_REQUEST_TIMEOUT, boolean: false },
  { key: 'debug', flags: '--debug', description: 'print debug information and stack traces to stderr', boolean: true },
  { key: 'json', flags: '--json', description: 'list commands print a JSON array instead of a table, why a JSON object', boolean: true },
  { key: 'tunnel', flags: '--tunnel <host[:port]>', description: 'reach machines for status, journal and ssh, and flotillad\'s API socket (--driver api), through this SSH bastion', boolean: false },
  { key: 'sshUsername', flags: '--ssh-username <user>', description: 'user for SSH connections', default: 'core', boolean: false },
  { key: 'sshIdentity', flags: '--ssh-identity <file>', description: 'private key file for SSH (ssh-agent via SSH_AUTH_SOCK is used too)', boolean: false },
  { key: 'knownHostsFile', flags: '--known-hosts-file <file>', description: 'known_hosts file for SSH host keys', default: DEFAULT_KNOWN_HOSTS, boolean: false },
  { key: 'strictHostKeyChecking', flags: '--strict-host-key-checking <bool>', description: 'verify SSH host keys against the known_hosts file', default: 'true', boolean: false },
  { key: 'sshTimeout', flags: '--ssh-timeout <seconds>', description: 'deadline of each SSH connection', default: '10', boolean: false },
  { key: 'caFile', flags: '--ca-file <file>', description: "CA certificate (PEM) that signed the endpoint's certificate (etcd's or the API's); https endpoints are always verified", boolean: false },
  { key: 'certFile', flags: '--cert-file <file>', description: 'client certificate (PEM) for etcd or the API', boolean: false },
  { key: 'keyFile', flags: '--key-file <file>', description: 'private key (PEM) of --cert-file', boolean: false },
  { key: 'username', flags: '--username <name>', description: 'etcd user to authenticate as', boolean: false },
  { key: 'password', flags: '--password <password>', description: 'password of --username (prefer the variable: other users can see command lines)', boolean: false },
];

/** "--etcd-key-prefix <prefix>" -> "FLOTCTL_ETCD_KEY_PREFIX" */
export function envName(flag: GlobalFlag): string {
  const long = /--([a-z0-9-]+)/.exec(flag.flags)?.[1] ?? flag.key;
  return `FLOTCTL_${long.toUpperCase().replace(/-/g, '_')}`;
}

/** Long flags that take a value, for finding the command word in argv. */
export const GLOBAL_VALUE_FLAGS: readonly string[] = GLOBAL_FLAGS.filter((f) => !f.boolean).map(
  (f) => /--[a-z0-9-]+/.exec(f.flags)?.[0] ?? '',
);

const TRUE = ['1', 'true', 't', 'yes', 'y', 'on'];
const FALSE = ['0', 'false', 'f', 'no', 'n', 'off'];

/** A set, non-blank environment value; blank counts as unset (see above). */
export function envValue(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Whether a boolean word reads as true, for guesses that must not throw (e.g. --debug before the globals resolve). */
export function isTrueWord(value: string | undefined): boolean {
  return value !== undefined && TRUE.includes(value.trim().toLowerCase());
}

function parseBool(value: string, from: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new UsageError(`invalid ${from} ${JSON.stringify(value)}: use true or false`);
}

function nonEmpty(value: string, from: string, what: string): string {
  if (value.trim() === '') throw new UsageError(`invalid ${from} "": give ${what}`);
  return value;
}

function parseSeconds(value: string, from: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`invalid ${from} ${JSON.stringify(value)}: give seconds greater than 0, e.g. 3 or 0.5`);
  }
  return Math.round(n * 1000);
}

/** `~/x` -> `$HOME/x` (fleet's pkg/filepath; `~user` forms are left as they are). */
function expandHome(path: string, env: Readonly<Record<string, string | undefined>>): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  return `${env.HOME ?? homedir()}${path.slice(1)}`;
}

/** fleetctl --tunnel: `host` or `host:port`, port 22 by default. */
function parseHostPort(value: string, from: string): { address: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(value.trim());
  const port = m?.[2] === undefined ? 22 : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw new UsageError(`invalid ${from} ${JSON.stringify(value)}: give host or host:port, e.g. bastion.example.com:22`);
  return { address: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/**
 * @param cli values commander parsed
 * @param fromCli whether the command line set the value (commander's option value source)
 */
export function resolveGlobals(
  cli: Readonly<Record<string, unknown>>,
  fromCli: (key: GlobalFlag['key']) => boolean,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const raw = new Map<GlobalFlag['key'], { value: string | boolean; from: string }>();
  const defaulted = new Set<GlobalFlag['key']>();
  for (const flag of GLOBAL_FLAGS) {
    const name = envName(flag);
    const long = GLOBAL_VALUE_FLAGS.find((f) => flag.flags.startsWith(f)) ?? flag.flags;
    const cliValue = cli[flag.key];
    if (fromCli(flag.key) && cliValue !== undefined) {
      raw.set(flag.key, { value: cliValue as string | boolean, from: long });
    } else if (envValue(env, name) !== undefined) {
      raw.set(flag.key, { value: envValue(env, name) as string, from: name });
    } else {
      raw.set(flag.key, { value: flag.boolean ? false : (flag.default ?? ''), from: long });
      defaulted.add(flag.key);
    }
  }
  const str = (k: GlobalFlag['key']): { value: string; from: string } => {
    const r = raw.get(k) as { value: string | boolean; from: string };
    return { value: String(r.value), from: r.from };
  };
  const bool = (k: GlobalFlag['key']): boolean => {
    const r = raw.get(k) as { value: string | boolean; from: string };
    return typeof r.value === 'boolean' ? r.value : parseBool(r.value, r.from);
  };
  const driver = parseDriver(str('driver'));
  const endpoint = str('endpoint');
  // Never guessed from the URL: the driver picks the default, and an explicit endpoint is the driver's kind.
  if (defaulted.has('endpoint')) endpoint.value = driver === 'api' ? DEFAULT_API_ENDPOINT : DEFAULT_ENDPOINT;
  const timeout = str('requestTimeout');
  const prefix = str('etcdKeyPrefix');
  const tunnel = str('tunnel');
  const identity = str('sshIdentity');
  const known = str('knownHostsFile');
  const strict = str('strictHostKeyChecking');
  const sshTimeout = str('sshTimeout');
  const username = str('sshUsername');
  const ssh: SshGlobals = {
    username: nonEmpty(username.value, username.from, 'a user name, e.g. core'),
    knownHostsFile: expandHome(nonEmpty(known.value, known.from, `a known_hosts file, e.g. ${DEFAULT_KNOWN_HOSTS}`), env),
    strictHostKeyChecking: parseBool(strict.value, strict.from),
    timeoutMs: parseSeconds(sshTimeout.value, sshTimeout.from),
  };
  if (tunnel.value !== '') ssh.tunnel = parseHostPort(tunnel.value, tunnel.from);
  if (identity.value !== '') ssh.identityFile = expandHome(identity.value, env);
  const agent = envValue(env, 'SSH_AUTH_SOCK');
  if (agent !== undefined) ssh.agentSocket = agent;
  const store = storeGlobals(str, endpoint.from, env);
  return {
    driver,
    endpoint: endpoint.value,
    endpointSource: endpoint.from,
    etcdKeyPrefix: prefix.value,
    etcdKeyPrefixOnCommandLine: !defaulted.has('etcdKeyPrefix') && prefix.from.startsWith('--'),
    requestTimeoutMs: parseSeconds(timeout.value, timeout.from),
    debug: bool('debug'),
    json: bool('json'),
    ssh,
    store,
  };
}

function parseDriver(d: { value: string; from: string }): Driver {
  const v = d.value.trim().toLowerCase();
  if (v === 'api' || v === 'etcd') return v;
  throw new UsageError(`invalid ${d.from} ${JSON.stringify(d.value)}: use api (flotillad's API) or etcd (etcd directly)`);
}

function storeGlobals(
  str: (k: GlobalFlag['key']) => { value: string; from: string },
  endpointsFrom: string,
  env: Readonly<Record<string, string | undefined>>,
): StoreGlobals {
  const ca = str('caFile');
  const cert = str('certFile');
  const key = str('keyFile');
  const user = str('username');
  const password = str('password');
  const credentials: StoreCredentials = {};
  if (ca.value !== '') credentials.caFile = expandHome(ca.value, env);
  if (cert.value !== '') credentials.certFile = expandHome(cert.value, env);
  if (key.value !== '') credentials.keyFile = expandHome(key.value, env);
  if (user.value !== '') credentials.username = user.value;
  if (password.value !== '') credentials.password = password.value;
  return {
    credentials,
    names: { caFile: ca.from, certFile: cert.from, keyFile: key.from, username: user.from, password: password.from, endpoints: endpointsFrom },
    passwordInArgv: password.value !== '' && password.from === '--password',
  };
}

/**
 * The command line as `ps` should show it: the value of --password blanked.
 * flotctl sets its process title to this, which on Linux overwrites the
 * arguments other users can read in /proc/PID/cmdline.
 */
export function redactedArgv(argv: readonly string[]): string[] | undefined {
  let found = false;
  const out = argv.map((a, i) => {
    if (i > 0 && argv[i - 1] === '--password') {
      found = true;
      return '***';
    }
    if (a.startsWith('--password=')) {
      found = true;
      return '--password=***';
    }
    return a;
  });
  return found ? out : undefined;
}
