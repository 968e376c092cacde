/**
 * What every bootstrap is rendered from: one set of inputs, checked once here
 * with one-line errors, so the three formats can only differ in how they say
 * the same thing. Raw inputs come from an input file (YAML or JSON, keys as in
 * flotillad.conf) and/or flags; TLS material is given as PEM text or as the
 * path of a PEM file, whose contents are embedded in the bootstrap.
 */
import { parseWholeSeconds } from '../daemon/config-values.js';
import { TTL_SECONDS_MAX } from '../registry/records.js';
import { isAbsolute, resolve } from 'node:path';
import { InvalidInputError } from '../util/errors.js';
import { parseEndpoints } from '../registry/store.js';

/** How a host learns the address it publishes (flotillad's public_ip). */
export type PublicIp =
  | { kind: 'auto' }
  | { kind: 'literal'; address: string }
  /** The provisioning system's metadata, named as coreos-cloudinit names it ($private_ipv4, $public_ipv4). */
  | { kind: 'metadata'; which: 'private' | 'public' };

export interface Pem {
  /** Where the PEM came from (a path, or "inline"), for messages. */
  source: string;
  text: string;
}

export interface BootstrapInputs {
  etcdServers: string[];
  etcdKeyPrefix?: string;
  etcdCa?: Pem;
  etcdCert?: Pem;
  etcdKey?: Pem;
  etcdUsername?: string;
  etcdPassword?: string;
  /** fleet's `k=v,k2=v2`, checked. */
  metadata?: string;
  /** As written (10, 10s, 1m30s): flotillad reads it. */
  agentTtl?: string;
  publicIp: PublicIp;
  /** The Afterburn variable (in /run/metadata/flatcar) that holds the address, for Ignition. */
  afterburnVariable: string;
  releaseUrl: string;
  releaseSha256: string;
  sshAuthorizedKeys: string[];
  /** Further flotillad.conf lines (verbosity, disable_engine, ...), in the order given. */
  extraConfig: Array<[string, string]>;
}

/** The keys an input file may hold (flotillad.conf's names where one exists). */
export const INPUT_KEYS = [
  'etcd_servers',
  'etcd_key_prefix',
  'etcd_cafile',
  'etcd_certfile',
  'etcd_keyfile',
  'etcd_username',
  'etcd_password',
  'metadata',
  'agent_ttl',
  'public_ip',
  'afterburn_variable',
  'release_url',
  'release_sha256',
  'ssh_authorized_keys',
  'config',
] as const;
export type InputKey = (typeof INPUT_KEYS)[number];
export type RawInputs = Partial<Record<InputKey, unknown>>;

/** Lines the renderer writes itself: giving them under `config` would say the same thing twice. */
const OWN_CONFIG_KEYS = new Set(['etcd_servers', 'etcd_key_prefix', 'etcd_cafile', 'etcd_certfile', 'etcd_keyfile', 'etcd_username', 'etcd_password', 'metadata', 'agent_ttl', 'public_ip']);

export interface ResolveOptions {
  /** Reads a PEM file named by a path (relative paths resolve against baseDir). */
  readFile: (path: string) => string;
  baseDir: string;
}

export function resolveInputs(raw: RawInputs, opts: ResolveOptions): BootstrapInputs {
  for (const k of Object.keys(raw)) {
    if (!(INPUT_KEYS as readonly string[]).includes(k)) throw new InvalidInputError(`unknown input "${k}": known inputs are ${INPUT_KEYS.join(', ')}`);
  }
  const etcdServers = parseEndpoints(joinList(required(raw, 'etcd_servers', 'the etcd URLs, e.g. --etcd-servers https://10.0.0.10:2379'), 'etcd_servers'), 'etcd_servers');
  const etcdCa = pem(raw, 'etcd_cafile', opts);
  const etcdCert = pem(raw, 'etcd_certfile', opts);
  const etcdKey = pem(raw, 'etcd_keyfile', opts);
  if ((etcdCert === undefined) !== (etcdKey === undefined)) {
    throw new InvalidInputError(`etcd_certfile and etcd_keyfile go together: give both (the client certificate and its key) or neither`);
  }
  const etcdUsername = optionalLine(raw, 'etcd_username');
  const etcdPassword = optionalLine(raw, 'etcd_password');
  if ((etcdUsername === undefined) !== (etcdPassword === undefined)) {
    throw new InvalidInputError(`etcd_username and etcd_password go together: give both or neither`);
  }
  if ((etcdCa || etcdCert) && !etcdServers.every((u) => u.startsWith('https:'))) {
    throw new InvalidInputError(`TLS material was given but etcd_servers has http:// URLs: use https:// URLs for a TLS etcd`);
  }
  const etcdKeyPrefix = optionalLine(raw, 'etcd_key_prefix');
  if (etcdKeyPrefix !== undefined && !/^[\w./-]+$/.test(etcdKeyPrefix)) {
    throw new InvalidInputError(`etcd_key_prefix "${etcdKeyPrefix}" is invalid: use letters, digits, /, ., _ and -, e.g. /flotilla/`);
  }
  const releaseUrl = line('release_url', required(raw, 'release_url', 'where hosts download the release, e.g. --release-url https://example.com/flotilla-0.1.0-linux-x64.tar.gz'));
  let url: URL;
  try {
    url = new URL(releaseUrl);
  } catch {
    throw new InvalidInputError(`release_url "${releaseUrl}" is not a URL: give the http(s) URL of flotilla-<version>-linux-x64.tar.gz`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError(`release_url "${releaseUrl}" has scheme ${url.protocol.replace(':', '')}: hosts download the release over http or https`);
  const sha = line('release_sha256', required(raw, 'release_sha256', 'the release\'s SHA-256, e.g. --release-sha256 "$(cut -d" " -f1 flotilla-0.1.0-linux-x64.tar.gz.sha256)"')).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new InvalidInputError(`release_sha256 "${sha}" is not a SHA-256: give the 64 hex digits from the release's .sha256 file`);
  return {
    etcdServers,
    etcdKeyPrefix,
    etcdCa,
    etcdCert,
    etcdKey,
    etcdUsername,
    etcdPassword,
    metadata: metadataInput(raw.metadata),
    agentTtl: agentTtl(raw.agent_ttl),
    publicIp: publicIp(optionalLine(raw, 'public_ip') ?? 'auto'),
    afterburnVariable: afterburnVariable(raw),
    releaseUrl,
    releaseSha256: sha,
    sshAuthorizedKeys: sshKeys(raw.ssh_authorized_keys),
    extraConfig: extraConfig(raw.config),
  };
}

/** Whether the rendered flotillad.conf will hold a secret (then it is written mode 0600). */
export function holdsCredentials(i: BootstrapInputs): boolean {
  return i.etcdPassword !== undefined || i.etcdKey !== undefined;
}

function required(raw: RawInputs, key: InputKey, what: string): unknown {
  const v = raw[key];
  if (v === undefined || v === null || v === '') throw new InvalidInputError(`${key} is missing: give ${what}`);
  return v;
}

function scalar(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new InvalidInputError(`${key} must be a single value, not a ${Array.isArray(v) ? 'list' : 'map'}`);
}

/** One line of text: every value lands in a key=value file or a unit, where a newline would inject more. */
function line(key: string, v: unknown): string {
  const s = scalar(key, v).trim();
  if (/[\r\n\0]/.test(s)) throw new InvalidInputError(`${key} holds a line break: give it on one line`);
  return s;
}

function optionalLine(raw: RawInputs, key: InputKey): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  return line(key, v);
}

function joinList(v: unknown, key: string): string {
  if (Array.isArray(v)) return v.map((x) => scalar(key, x)).join(',');
  return scalar(key, v);
}

function pem(raw: RawInputs, key: InputKey, opts: ResolveOptions): Pem | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  const given = scalar(key, v);
  let p: Pem;
  if (given.trimStart().startsWith('-----BEGIN ')) {
    p = { source: 'inline', text: given };
  } else {
    const path = isAbsolute(given) ? given : resolve(opts.baseDir, given);
    let text: string;
    try {
      text = opts.readFile(path);
    } catch (err) {
      throw new InvalidInputError(`${key} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): give the path of a PEM file, or its PEM text`);
    }
    p = { source: path, text };
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----[\s\S]*-----END [A-Z0-9 ]+-----/.test(p.text)) {
    throw new InvalidInputError(`${key} ${p.source === 'inline' ? '(inline)' : p.source} is not PEM: give a PEM file (-----BEGIN ...-----)`);
  }
  if (p.text.length > 64 * 1024) throw new InvalidInputError(`${key} ${p.source} is over 64 KiB: give one certificate or key, not a bundle of everything`);
  const text = p.text.replace(/\r\n/g, '\n').trim() + '\n';
  return { source: p.source, text };
}

function metadataInput(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  let entries: Array<[string, string]>;
  if (typeof v === 'object' && !Array.isArray(v)) {
    entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, scalar(`metadata.${k}`, x)]);
  } else {
    entries = line('metadata', v)
      .split(',')
      .map((item) => {
        const i = item.indexOf('=');
        if (i <= 0) throw new InvalidInputError(`metadata entry "${item.trim()}" is not key=value: write metadata as region=eu,role=web`);
        return [item.slice(0, i), item.slice(i + 1)];
      });
  }
  return entries
    .map(([k, x]) => {
      const key = k.trim();
      const value = x.trim();
      if (!/^[\w.-]+$/.test(key)) throw new InvalidInputError(`metadata key "${key}" is invalid: use letters, digits, ., _ and -`);
      if (value === '' || /[,=\s]/.test(value)) throw new InvalidInputError(`metadata value "${value}" of ${key} is invalid: give a non-empty value without commas, = or spaces`);
      return `${key}=${value}`;
    })
    .join(',');
}

/** agent_ttl exactly as flotillad.conf takes it (Go durations such as 30s, or plain seconds; whole seconds; 2 s to 1 h). */
function agentTtl(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const text = line('agent_ttl', v);
  parseWholeSeconds('agent_ttl', text, 2, TTL_SECONDS_MAX);
  return text;
}

function publicIp(text: string): PublicIp {
  if (text === 'auto') return { kind: 'auto' };
  if (text === '$private_ipv4') return { kind: 'metadata', which: 'private' };
  if (text === '$public_ipv4') return { kind: 'metadata', which: 'public' };
  if (isIPv4(text)) return { kind: 'literal', address: text };
  throw new InvalidInputError(`public_ip "${text}" is invalid: use auto (flotillad finds its address), $private_ipv4 or $public_ipv4 (the provisioning system's metadata) or an IPv4 address`);
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function afterburnVariable(raw: RawInputs): string {
  const v = optionalLine(raw, 'afterburn_variable');
  if (v === undefined) return raw.public_ip === '$public_ipv4' ? 'COREOS_CUSTOM_PUBLIC_IPV4' : 'COREOS_CUSTOM_PRIVATE_IPV4';
  if (!/^COREOS_[A-Z0-9_]+$/.test(v)) throw new InvalidInputError(`afterburn_variable "${v}" is invalid: name a variable of /run/metadata/flatcar such as COREOS_EC2_IPV4_LOCAL`);
  return v;
}

function sshKeys(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((k) => {
    const key = line('ssh_authorized_keys', k);
    if (!/^(ssh-|ecdsa-|sk-)[\w@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(key)) {
      throw new InvalidInputError(`ssh_authorized_keys entry "${key.slice(0, 40)}" is not an OpenSSH public key: give lines such as "ssh-ed25519 AAAA... you@host"`);
    }
    return key;
  });
}

function extraConfig(v: unknown): Array<[string, string]> {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidInputError(`config must be a map of further flotillad.conf keys, e.g. config: {verbosity: 1}`);
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => {
    if (!/^[a-z][a-z0-9_]*$/.test(k)) throw new InvalidInputError(`config key "${k}" is invalid: flotillad.conf keys are lower-case words joined by _`);
    if (OWN_CONFIG_KEYS.has(k)) throw new InvalidInputError(`config key "${k}" is an input of its own: give it as ${k} (or --${k.replaceAll('_', '-')})`);
    return [k, line(`config.${k}`, x)];
  });
}
