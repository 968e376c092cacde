/**
 * /metrics over HTTP: a handler the API router mounts on its listeners, and
 * a TCP listener of its own for `metrics_address` (Prometheus cannot scrape
 * a unix socket). Read-only and bodiless, so the only input is the method.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { InvalidInputError, errorMessage } from '../util/errors.js';
import type { FlotillaMetrics } from './instruments.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers GET/HEAD with the exposition text; other methods get 405. */
export function metricsHandler(metrics: FlotillaMetrics): RequestHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 405, message: `${req.method ?? '?'} /metrics is not allowed: use GET` } }));
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: `collecting metrics failed: ${errorMessage(err)}` } }));
      },
    );
  };
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** "HOST:PORT" or "[IPv6]:PORT"; a one-line error naming the value otherwise. */
export function parseListenAddress(value: string, what = 'metrics_address'): ListenAddress {
  const bad = (why: string): InvalidInputError => new InvalidInputError(`${what} "${value}" ${why}: use HOST:PORT, e.g. 127.0.0.1:9101 or [::]:9101`);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw bad('is not HOST:PORT');
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port > 65535) throw bad('has a port above 65535');
  if (m[1] !== undefined && isIP(host) !== 6) throw bad('has brackets around something that is not an IPv6 address');
  if (m[2] !== undefined && isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) throw bad('has an invalid host name');
  return { host, port };
}

export interface MetricsListener {
  /** The address bound (the port is the real one when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** Serve /metrics alone on a TCP address; anything else is 404. */
export async function startMetricsListener(address: string, metrics: FlotillaMetrics): Promise<MetricsListener> {
  const { host, port } = parseListenAddress(address);
  const handle = metricsHandler(metrics);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') return handle(req, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 404, message: `${path} not found: this listener serves /metrics only` } }));
  });
  // Scrapes are small and periodic: no reason to keep idle sockets or slow clients around.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const real = typeof bound === 'object' && bound ? { host, port: bound.port } : { host, port };
  return {
    address: real,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
