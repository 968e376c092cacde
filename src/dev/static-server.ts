/**
 * A tiny read-only HTTP server for files of one directory, on loopback:
 * what a booted host's bootstrap downloads the release from in the tests
 * (hosts share the machine's network, so 127.0.0.1 reaches it). GET and HEAD
 * of plain file names only; anything else is 404 or 405.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { basename, join } from 'node:path';

export interface StaticServer {
  /** e.g. http://127.0.0.1:34567 (no trailing slash). */
  url: string;
  /** URL of one file of the directory. */
  urlOf: (file: string) => string;
  /** Paths requested so far, in order (to show that a host did fetch). */
  requests: string[];
  close: () => Promise<void>;
}

export async function serveDirectory(dir: string, host = '127.0.0.1'): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    requests.push(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const name = path.replace(/^\/+/, '');
    if (!name || name !== basename(name) || name.startsWith('.')) {
      res.writeHead(404).end();
      return;
    }
    const file = join(dir, name);
    stat(file).then((st) => {
      if (!st.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    }).catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://${host}:${port}`;
  return {
    url,
    urlOf: (file) => `${url}/${encodeURIComponent(file)}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
