/**
 * One request from node:http to the router and back: match, run, write JSON
 * or the error body. Every reply names the server (`Server:
 * flotillad/<version>`, as fleetd named itself); internal errors are logged
 * and answered 500 without detail.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../util/log.js';
import { VERSION } from '../util/version.js';
import { errorBody, mapError } from './errors.js';
import type { Method, Router } from './router.js';

export const SERVER_HEADER = `flotillad/${VERSION}`;

export function requestListener(router: Router, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.setHeader('Server', SERVER_HEADER);
    void handle(router, log, req, res).catch((err: unknown) => {
      // Only a failure to write the reply gets here: the peer has gone.
      log.debug({ err: String(err) }, 'API reply not delivered');
      res.destroy();
    });
  };
}

async function handle(router: Router, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Split by hand: URL parsing would read "//x/y" as host x, path /y.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const url = { pathname: q < 0 ? target : target.slice(0, q), searchParams: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)) };
  try {
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (!m.ok) throw m.error;
    if (m.handler.kind === 'stream') {
      await m.handler.run(req, res, m.params);
      return;
    }
    const reply = await m.handler.run({
      method: req.method as Method,
      path: url.pathname,
      params: m.params,
      query: url.searchParams,
      headers: req.headers,
      raw: req,
    });
    // The body was not read (a GET with one, a refusal before reading): do not read it on.
    send(res, reply.status, reply.body, reply.headers ?? {});
  } catch (err) {
    const e = mapError(err);
    if (e.internal) log.error({ err: String(err), method: req.method, path: url.pathname }, 'API request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, e.status, errorBody(e.status, e.message), e.headers);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
