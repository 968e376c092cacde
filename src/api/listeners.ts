/**
 * Where the API listens. The unix socket is made mode 0660 from the start
 * (umask around bind, not chmod after: no moment in which anyone can
 * connect) and handed to api_socket_group; a socket file left by a dead
 * flotillad is replaced, one a live process answers on is an error, and a
 * file that is no socket is never removed. TCP is https with required
 * client certificates when TLS files are configured (config-api.ts refuses
 * plain TCP off loopback).
 */
import { chown, lstat, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { ApiConfig } from '../daemon/config-api.js';
import { FlotillaError } from '../util/errors.js';

export const SOCKET_MODE = 0o660;

export interface Listening {
  server: Server;
  /** What it listens on, for logs: a socket path or https://host:port. */
  address: string;
  /** The socket path to remove on close. */
  socket?: string;
}

function tuned(server: Server): Server {
  // A client that never finishes its headers or body must not hold a connection for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Does a process accept connections on this socket file? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function clearStaleSocket(path: string): Promise<void> {
  // Unreadable counts as missing: the line below names the directory either way.
  const parent = await stat(dirname(path)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new FlotillaError(`api_socket ${path}: directory ${dirname(path)} does not exist: create it or set another api_socket`);
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new FlotillaError(`api_socket ${path} cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'}): fix its directory's permissions`);
  }
  if (!st.isSocket()) throw new FlotillaError(`api_socket ${path} exists and is not a socket: remove it or set another api_socket`);
  if (await answers(path)) throw new FlotillaError(`api_socket ${path} is in use by a running process (another flotillad?): stop it or set another api_socket`);
  await unlink(path);
}

function listen(server: Server, bind: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    bind();
  });
}

export async function listenSocket(path: string, gid: number | undefined, handler: RequestListener): Promise<Listening> {
  await clearStaleSocket(path);
  const server = tuned(createHttpServer(handler));
  // Node binds a pipe synchronously inside listen(), so the umask covers exactly that bind.
  await listen(server, () => {
    const old = process.umask(0o117);
    try {
      server.listen(path);
    } finally {
      process.umask(old);
    }
  }).catch((err: NodeJS.ErrnoException) => {
    throw new FlotillaError(`api_socket ${path} cannot be listened on (${err.code ?? err.message}): check that its directory exists and is writable`);
  });
  if (gid !== undefined) {
    try {
      await chown(path, -1, gid);
    } catch (err) {
      server.close();
      // The socket may not exist yet; the chown failure is what is reported.
      await unlink(path).catch(() => undefined);
      throw new FlotillaError(`api_socket ${path} cannot be given group ${gid} (${(err as NodeJS.ErrnoException).code ?? 'error'}): run flotillad as root or as a member of that group`);
    }
  }
  return { server, address: path, socket: path };
}

export async function listenTcp(tcp: NonNullable<ApiConfig['tcp']>, handler: RequestListener): Promise<Listening> {
  const server = tuned(
    tcp.tls
      ? createHttpsServer({ key: tcp.tls.key, cert: tcp.tls.cert, ca: tcp.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, handler)
      : createHttpServer(handler),
  );
  await listen(server, () => server.listen(tcp.port, tcp.host)).catch((err: NodeJS.ErrnoException) => {
    throw new FlotillaError(`api_address ${tcp.host}:${tcp.port} cannot be listened on (${err.code ?? err.message}): choose a free port`);
  });
  const host = tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host;
  return { server, address: `${tcp.tls ? 'https' : 'http'}://${host}:${tcp.port}` };
}

export async function closeListening(l: Listening): Promise<void> {
  await new Promise<void>((resolve) => {
    l.server.close(() => resolve());
    l.server.closeAllConnections();
  });
  // Already gone (removed by hand, or never bound) is what we want.
  if (l.socket) await unlink(l.socket).catch(() => undefined);
}
