/** A bare HTTP client for the API tests: over a unix socket or TCP, any method, headers and body as given. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when empty). */
  json: unknown;
}

export interface Ask {
  method?: string;
  /** A value JSON-encoded with Content-Type application/json, unless `raw` is given. */
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string | string[]>;
}

export type Target = { socket: string } | { url: string; tls?: Pick<RequestOptions, 'ca' | 'cert' | 'key'> };

export function ask(target: Target, path: string, a: Ask = {}): Promise<Answer> {
  const headers: Record<string, string | string[]> = { ...(a.headers ?? {}) };
  let payload: Buffer | undefined;
  if (a.raw !== undefined) payload = Buffer.from(a.raw);
  else if (a.body !== undefined) {
    payload = Buffer.from(JSON.stringify(a.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  if (payload && !Object.keys(headers).some((h) => h.toLowerCase() === 'transfer-encoding')) headers['Content-Length'] = String(payload.length);
  const method = a.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const done = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    };
    const req = 'socket' in target
      ? httpRequest({ socketPath: target.socket, path, method, headers }, done)
      : target.url.startsWith('https:')
        ? httpsRequest(new URL(path, target.url), { method, headers, ...(target.tls ?? {}) }, done)
        : httpRequest(new URL(path, target.url), { method, headers }, done);
    req.on('error', reject);
    req.end(payload);
  });
}

/** fleet's error body, for comparing answers. */
export function apiError(code: number, message: string): { error: { code: number; message: string } } {
  return { error: { code, message } };
}
