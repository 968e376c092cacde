/**
 * flotillad's API listener settings: the unix socket (api_socket, mode 0660,
 * group api_socket_group) and an optional TCP address (api_address). fleet's
 * API had no authentication (coreos/fleet#1243, #1414): a TCP listener that
 * is not on loopback must use TLS with client certificates signed by
 * api_cafile, and flotillad refuses to start otherwise. Pure but for reading
 * the PEM files and /etc/group, so every mistake is one line at start-up.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { InvalidInputError } from '../util/errors.js';
import { parseAbsolutePath, parseInteger } from './config-values.js';

export const DEFAULT_API_SOCKET = '/var/run/flotilla.sock';
/** fleet's default page size of its API (token_limit). */
export const DEFAULT_TOKEN_LIMIT = 100;

export interface ApiTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface ApiConfig {
  /** Absent when api_socket is set empty: no unix listener. */
  socket?: string;
  /** Group owning the socket (gid), from api_socket_group. */
  socketGid?: number;
  /** TCP listener, from api_address. */
  tcp?: { host: string; port: number; tls?: ApiTls };
  /** Page size of /fleet/v1 lists (fleet's token_limit); a page token encodes it in 16 bits. */
  tokenLimit: number;
}

export type ApiRawKey = 'api_socket' | 'api_socket_group' | 'api_address' | 'api_cafile' | 'api_certfile' | 'api_keyfile' | 'token_limit';
export type ApiRaw = Partial<Record<ApiRawKey, string>>;

export function parseApiConfig(raw: ApiRaw, groupFile = '/etc/group'): ApiConfig {
  const out: ApiConfig = { tokenLimit: parseInteger('token_limit', raw.token_limit ?? String(DEFAULT_TOKEN_LIMIT), 1, 65535) };
  const socket = raw.api_socket ?? DEFAULT_API_SOCKET;
  // Set empty on purpose: no socket (a host that serves only TCP, or none at all).
  if (socket.trim() !== '') out.socket = parseAbsolutePath('api_socket', socket, DEFAULT_API_SOCKET);
  if (raw.api_socket_group !== undefined && raw.api_socket_group.trim() !== '') {
    if (!out.socket) throw new InvalidInputError('api_socket_group is set but api_socket is empty: set api_socket too, or drop api_socket_group');
    out.socketGid = resolveGroup(raw.api_socket_group.trim(), groupFile);
  }
  const address = raw.api_address?.trim() ?? '';
  const files = tlsFiles(raw);
  if (address === '') {
    if (files) throw new InvalidInputError('api_cafile/api_certfile/api_keyfile are set but api_address is empty: set api_address (the unix socket needs no TLS)');
    return out;
  }
  const { host, port } = parseHostPort(address);
  if (!files && !isLoopback(host)) {
    throw new InvalidInputError(
      `api_address "${address}" is not a loopback address and the API has no other authentication: set api_certfile, api_keyfile and api_cafile (clients then need a certificate signed by api_cafile), or listen on 127.0.0.1`,
    );
  }
  out.tcp = { host, port, ...(files ? { tls: loadTls(files) } : {}) };
  return out;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** host:port or [v6]:port; the host must be an IP literal or localhost, so what is bound is what was written. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !(port >= 1 && port <= 65535)) {
    throw new InvalidInputError(`api_address "${text}" is invalid: give HOST:PORT such as 127.0.0.1:8079 or [::1]:8079`);
  }
  if (host !== 'localhost' && isIP(host) === 0) throw new InvalidInputError(`api_address "${text}" does not name an IP address: give the address to listen on, such as 10.0.0.5:8079`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new InvalidInputError(`api_address "${text}": brackets are for IPv6 addresses only`);
  return { host, port };
}

interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

function tlsFiles(raw: ApiRaw): TlsFiles | undefined {
  const path = (k: 'api_cafile' | 'api_certfile' | 'api_keyfile'): string | undefined =>
    raw[k] === undefined || raw[k].trim() === '' ? undefined : parseAbsolutePath(k, raw[k], `/etc/flotilla/${k.slice(4)}.pem`);
  const ca = path('api_cafile');
  const cert = path('api_certfile');
  const key = path('api_keyfile');
  if (!ca && !cert && !key) return undefined;
  const missing = [!cert && 'api_certfile', !key && 'api_keyfile', !ca && 'api_cafile'].filter((x): x is string => typeof x === 'string');
  if (missing.length > 0 || !ca || !cert || !key) {
    throw new InvalidInputError(`the API's TLS needs api_certfile, api_keyfile and api_cafile together (api_cafile checks the clients' certificates): set ${missing.join(' and ')}`);
  }
  return { ca, cert, key };
}

function readPem(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new InvalidInputError(`${key} ${path} ${why}: give a readable PEM file`);
  }
}

function loadTls(f: TlsFiles): ApiTls {
  const tls = { ca: readPem('api_cafile', f.ca), cert: readPem('api_certfile', f.cert), key: readPem('api_keyfile', f.key) };
  for (const [k, path, pem] of [['api_cafile', f.ca, tls.ca], ['api_certfile', f.cert, tls.cert]] as const) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new InvalidInputError(`${k} ${path} holds no PEM certificate: give ${k === 'api_cafile' ? 'the CA that signs the clients\' certificates' : 'the server certificate of this API'}`);
    }
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch {
    throw new InvalidInputError(`api_keyfile ${f.key} is not a usable private key of api_certfile ${f.cert}: give the unencrypted key that belongs to the certificate`);
  }
  return tls;
}

/** A group name from /etc/group, or a numeric gid as is. */
function resolveGroup(text: string, groupFile: string): number {
  if (/^\d+$/.test(text)) return parseInteger('api_socket_group', text, 0, 0x7fffffff);
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(text)) throw new InvalidInputError(`api_socket_group "${text}" is not a group name: give a group name or a numeric gid`);
  let lines: string[] = [];
  try {
    lines = readFileSync(groupFile, 'utf8').split('\n');
  } catch {
    // handled as not found
  }
  for (const line of lines) {
    const [name, , gid] = line.split(':');
    if (name === text && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new InvalidInputError(`api_socket_group "${text}" is not a group in ${groupFile}: create the group (groupadd ${text}) or give a numeric gid`);
}
