/**
 * TLS material and credentials for etcd, shared by flotillad (config keys
 * etcd_cafile, etcd_certfile, etcd_keyfile, etcd_username, etcd_password) and
 * flotctl (--ca-file, --cert-file, --key-file, --username, --password).
 *
 * Verification is never turned off. fleet skipped verifying etcd's
 * certificate whenever no client certificate was given (its CA file was then
 * ignored); here an https:// endpoint is always verified, against the CA file
 * when one is given and against the system's CAs otherwise.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { InvalidInputError } from '../util/errors.js';

export interface StoreCredentials {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

/** How the user named each setting, so messages name what to fix. */
export interface CredentialNames {
  caFile: string;
  certFile: string;
  keyFile: string;
  username: string;
  password: string;
  endpoints: string;
}

export const DAEMON_CREDENTIAL_NAMES: CredentialNames = {
  caFile: 'etcd_cafile',
  certFile: 'etcd_certfile',
  keyFile: 'etcd_keyfile',
  username: 'etcd_username',
  password: 'etcd_password',
  endpoints: 'etcd_servers',
};

/** What the etcd client is given: PEM bytes and the user to authenticate as. */
export interface StoreSecurity {
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
  /** For explaining failures: where the material came from. */
  credentials: StoreCredentials;
  names: CredentialNames;
}

export function hasTlsFiles(c: StoreCredentials): boolean {
  return Boolean(c.caFile || c.certFile || c.keyFile);
}

/**
 * Pure consistency checks; returns warnings (things that work but should not
 * be left so). Throws a one-line InvalidInputError for what cannot work.
 */
export function checkCredentials(c: StoreCredentials, endpoints: readonly string[], names: CredentialNames): string[] {
  const warnings: string[] = [];
  if (Boolean(c.certFile) !== Boolean(c.keyFile)) {
    const [given, missing] = c.certFile ? [names.certFile, names.keyFile] : [names.keyFile, names.certFile];
    throw new InvalidInputError(`${given} is set without ${missing}: give both the client certificate and its private key`);
  }
  if (Boolean(c.username) !== Boolean(c.password)) {
    const [given, missing] = c.username ? [names.username, names.password] : [names.password, names.username];
    throw new InvalidInputError(`${given} is set without ${missing}: give both the etcd user name and its password`);
  }
  const schemes = new Set(endpoints.map((e) => new URL(e).protocol));
  if (schemes.size > 1) throw new InvalidInputError(`${names.endpoints} mixes http:// and https:// URLs: use https:// for every member`);
  const plain = schemes.has('http:');
  if (plain && hasTlsFiles(c)) {
    const given = c.caFile ? names.caFile : names.certFile;
    throw new InvalidInputError(`${given} is set but ${names.endpoints} has http:// URLs (${endpoints[0]}): use https:// so the connection is encrypted and verified`);
  }
  if (plain && c.password) warnings.push(`${names.password} is sent to etcd over plain http:// (${endpoints[0]}): use https:// endpoints so it is encrypted`);
  return warnings;
}

function readPem(path: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new InvalidInputError(`${name} ${path} ${why}: give a readable PEM file`);
  }
}

/** Reads and checks the PEM files (a CA that is no certificate, a key that does not fit its certificate). */
export function loadStoreSecurity(c: StoreCredentials, names: CredentialNames): StoreSecurity {
  const out: StoreSecurity = { credentials: c, names };
  if (hasTlsFiles(c)) {
    const tls: NonNullable<StoreSecurity['tls']> = {};
    if (c.caFile) {
      tls.ca = readPem(c.caFile, names.caFile);
      try {
        new X509Certificate(tls.ca);
      } catch {
        throw new InvalidInputError(`${names.caFile} ${c.caFile} holds no PEM certificate: give the CA certificate that signed etcd's certificate`);
      }
    }
    if (c.certFile && c.keyFile) {
      tls.cert = readPem(c.certFile, names.certFile);
      tls.key = readPem(c.keyFile, names.keyFile);
      try {
        new X509Certificate(tls.cert);
      } catch {
        throw new InvalidInputError(`${names.certFile} ${c.certFile} holds no PEM certificate: give the client certificate`);
      }
      try {
        createSecureContext({ cert: tls.cert, key: tls.key });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code.includes('KEY_VALUES_MISMATCH')) {
          throw new InvalidInputError(`${names.keyFile} ${c.keyFile} is not the private key of ${names.certFile} ${c.certFile}: give the key that belongs to the certificate`);
        }
        throw new InvalidInputError(`${names.keyFile} ${c.keyFile} holds no usable PEM private key (an encrypted key cannot be used): give the unencrypted key of the client certificate`);
      }
    }
    out.tls = tls;
  }
  if (c.username && c.password) out.auth = { username: c.username, password: c.password };
  return out;
}
