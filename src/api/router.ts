/**
 * A small router: exact paths and paths with `:param` segments, each with
 * handlers per method. Matching is pure (path + method -> handler, or the
 * 404/405 to answer), so it is tested without a server. A segment parameter
 * is percent-decoded and never spans a `/`; a trailing slash is a different
 * path (fleet's rule: the item path is `<base>/<one segment>`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

export type Method = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

export interface Request {
  method: Method;
  path: string;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The body, read lazily by handlers that take one (body.ts). */
  raw: IncomingMessage;
}

export interface Reply {
  status: number;
  /** JSON-encoded unless undefined (no body at all). */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

/** A JSON handler: the server writes its reply and its errors. */
export type JsonHandler = (req: Request) => Promise<Reply>;
/**
 * A handler that writes the response itself (Prometheus text, an ndjson
 * stream): for /metrics and /flotilla/v1/events, whose owners hand them in.
 */
export type StreamHandler = (req: IncomingMessage, res: ServerResponse, params: Readonly<Record<string, string>>) => void | Promise<void>;

export type Handler = { kind: 'json'; run: JsonHandler } | { kind: 'stream'; run: StreamHandler };

export type MethodTable = Partial<Record<Method, Handler>>;

interface Route {
  segments: readonly string[];
  methods: MethodTable;
  /** The 405 message when a method is not in the table (fleet words some of them). */
  notAllowed?: string;
}

export type Match =
  | { ok: true; handler: Handler; params: Record<string, string> }
  | { ok: false; error: ApiError };

const METHOD_ORDER: readonly Method[] = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'];

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` such as `/fleet/v1/units/:name`; a `:param` is one whole segment. */
  add(pattern: string, methods: MethodTable, notAllowed?: string): this {
    if (!pattern.startsWith('/')) throw new Error(`route ${pattern} must start with /`);
    const segments = pattern.split('/').slice(1);
    if (this.routes.some((r) => sameShape(r.segments, segments))) throw new Error(`route ${pattern} is declared twice`);
    this.routes.push({ segments, methods, ...(notAllowed ? { notAllowed } : {}) });
    return this;
  }

  match(method: string, path: string): Match {
    const parts = path.split('/').slice(1);
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      if (params === 'bad-escape') return { ok: false, error: new ApiError(400, `path ${JSON.stringify(path)} holds an invalid percent-escape`) };
      const handler = isMethod(method) ? r.methods[method] : undefined;
      if (handler) return { ok: true, handler, params };
      const allowed = METHOD_ORDER.filter((m) => r.methods[m]);
      const message = r.notAllowed ?? `only ${allowed.join(', ')} supported against this resource`;
      return { ok: false, error: new ApiError(405, message, { Allow: allowed.join(', ') }) };
    }
    return { ok: false, error: new ApiError(404, `no such resource: ${path}`) };
  }
}

function isMethod(m: string): m is Method {
  return (METHOD_ORDER as readonly string[]).includes(m);
}

function sameShape(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i] || (s.startsWith(':') && b[i]!.startsWith(':')));
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | 'bad-escape' | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      if (v === '') return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return 'bad-escape';
      }
    } else if (p !== v) {
      return undefined;
    }
  }
  return params;
}

export const json = (run: JsonHandler): Handler => ({ kind: 'json', run });
export const stream = (run: StreamHandler): Handler => ({ kind: 'stream', run });
