/**
 * Global flags and their FLOTCTL_<NAME> environment forms. Precedence: the
 * command line, then the environment, then the default (fleetctl's order).
 * Resolved here rather than by commander's env support so booleans read
 * "false"/"0" as false and a bad value names the variable it came from.
 */
import { DEFAULT_PREFIX } from '../registry/keys.js';
import { UsageError } from '../util/errors.js';

export interface GlobalOptions {
  /** As given; validated when a client is created (see session.ts), so help and version stay fast. */
  endpoint: string;
  /** Which flag or variable the endpoint came from, for error messages. */
  endpointSource: string;
  etcdKeyPrefix: string;
  requestTimeoutMs: number;
  debug: boolean;
  json: boolean;
}

export interface GlobalFlag {
  /** commander attribute name */
  key: 'endpoint' | 'etcdKeyPrefix' | 'requestTimeout' | 'debug' | 'json';
  flags: string;
  description: string;
  /** Shown in help; applied only when neither the command line nor the environment sets it. */
  default?: string;
  boolean: boolean;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';
export const DEFAULT_REQUEST_TIMEOUT = '3';

export const GLOBAL_FLAGS: readonly GlobalFlag[] = [
  { key: 'endpoint', flags: '--endpoint <urls>', description: 'comma-separated etcd URLs', default: DEFAULT_ENDPOINT, boolean: false },
  { key: 'etcdKeyPrefix', flags: '--etcd-key-prefix <prefix>', description: 'keyspace of the cluster in etcd', default: DEFAULT_PREFIX, boolean: false },
  { key: 'requestTimeout', flags: '--request-timeout <seconds>', description: 'deadline of each request to etcd', default: DEFAULT_REQUEST_TIMEOUT, boolean: false },
  { key: 'debug', flags: '--debug', description: 'print debug information and stack traces to stderr', boolean: true },
  { key: 'json', flags: '--json', description: 'list commands print a JSON array instead of a table, why a JSON object', boolean: true },
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
const FALSE = ['', '0', 'false', 'f', 'no', 'n', 'off'];

function parseBool(value: string, from: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new UsageError(`invalid ${from} ${JSON.stringify(value)}: use true or false`);
}

function parseSeconds(value: string, from: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`invalid ${from} ${JSON.stringify(value)}: give seconds greater than 0, e.g. 3 or 0.5`);
  }
  return Math.round(n * 1000);
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
  for (const flag of GLOBAL_FLAGS) {
    const name = envName(flag);
    const long = GLOBAL_VALUE_FLAGS.find((f) => flag.flags.startsWith(f)) ?? flag.flags;
    const cliValue = cli[flag.key];
    if (fromCli(flag.key) && cliValue !== undefined) {
      raw.set(flag.key, { value: cliValue as string | boolean, from: long });
    } else if (env[name] !== undefined) {
      raw.set(flag.key, { value: env[name] as string, from: name });
    } else {
      raw.set(flag.key, { value: flag.boolean ? false : (flag.default ?? ''), from: long });
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
  const endpoint = str('endpoint');
  const timeout = str('requestTimeout');
  const prefix = str('etcdKeyPrefix');
  return {
    endpoint: endpoint.value,
    endpointSource: endpoint.from,
    etcdKeyPrefix: prefix.value,
    requestTimeoutMs: parseSeconds(timeout.value, timeout.from),
    debug: bool('debug'),
    json: bool('json'),
  };
}
