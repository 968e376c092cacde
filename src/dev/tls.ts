/**
 * Throw-away certificates for a secured dev etcd and for the tests, made
 * with the openssl command (EC P-256 keys: fast to make). Private keys are
 * written mode 0600 in a directory of mode 0700.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '../util/errors.js';
import { findExecutable, run } from './exec.js';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface CertOptions {
  /** Subject CN; etcd takes a client certificate's CN as the user when no token is sent. */
  cn: string;
  /** e.g. ['IP:127.0.0.1', 'DNS:localhost'] */
  altNames?: string[];
  usage: 'server' | 'client' | 'server+client';
}

const DAYS = '3650';

async function openssl(args: string[]): Promise<void> {
  const bin = await findExecutable('openssl', ['/usr/bin/openssl']);
  const r = await run(bin, args);
  if (r.code !== 0) throw new FlotillaError(`openssl ${args[0]} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA in `dir` as NAME.pem and NAME-key.pem. */
export async function makeCA(dir: string, name: string, cn = name): Promise<CertFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  await openssl(['req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', DAYS, '-subj', `/CN=${cn}`]);
  await chmod(files.key, 0o600);
  return files;
}

/** A certificate signed by `ca`, in `dir` as NAME.pem and NAME-key.pem. */
export async function makeCert(dir: string, name: string, ca: CertFiles, opts: CertOptions): Promise<CertFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const usage = { server: 'serverAuth', client: 'clientAuth', 'server+client': 'serverAuth,clientAuth' }[opts.usage];
  const lines = [`extendedKeyUsage=${usage}`, 'keyUsage=digitalSignature,keyEncipherment'];
  if (opts.altNames?.length) lines.push(`subjectAltName=${opts.altNames.join(',')}`);
  await writeFile(ext, `${lines.join('\n')}\n`);
  try {
    await openssl(['req', '-new', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${opts.cn}`]);
    await chmod(files.key, 0o600);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', DAYS, '-extfile', ext]);
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
  return files;
}

/** What a secured dev etcd and its clients need. */
export interface DevTls {
  ca: CertFiles;
  /** etcd's own certificate: 127.0.0.1 and localhost. */
  server: CertFiles;
  /** Flotilla's client certificate. Its CN is no etcd user: etcd would take it as the user when no password is given. */
  client: CertFiles;
}

export async function makeDevTls(dir: string): Promise<DevTls> {
  const ca = await makeCA(dir, 'ca', 'flotilla dev CA');
  // One after the other: both signatures update the CA's serial file.
  const server = await makeCert(dir, 'etcd', ca, { cn: 'etcd', altNames: ['IP:127.0.0.1', 'DNS:localhost'], usage: 'server+client' });
  const client = await makeCert(dir, 'client', ca, { cn: 'flotilla-client', usage: 'client' });
  return { ca, server, client };
}

/** An EC key pair for etcd's JWT tokens (--auth-token jwt,...,sign-method=ES256). */
export async function makeJwtKeys(dir: string): Promise<{ pub: string; priv: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys = { pub: join(dir, 'jwt.pub.pem'), priv: join(dir, 'jwt-key.pem') };
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keys.priv]);
  await chmod(keys.priv, 0o600);
  await openssl(['pkey', '-in', keys.priv, '-pubout', '-out', keys.pub]);
  return keys;
}
