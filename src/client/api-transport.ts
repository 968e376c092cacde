/**
 * HTTP to flotillad's API for flotctl's API driver: over its unix socket
 * (`unix:///path`) or TCP (`http://host:port`, `https://host:port` with the
 * same --ca-file/--cert-file/--key-file as etcd). One keep-alive connection
 * per process. Every answer must come from flotillad (its Server header and a
 * JSON body): anything else (etcd, a web server) is one line naming
 * `--driver etcd`, never a confusing parse error.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { FlotillaError, InvalidInputError, StoreUnavailableError, UsageError } from '../util/errors.js';

export type ApiEndpoint = { kind: 'unix'; socket: string; text: string } | { kind: 'http' | 'https'; host: string; port: number; text: string };

/** unix:///absolute/path, http://host:port or https://host:port; one endpoint. */
export function parseApiEndpoint(text: string, from: string): ApiEndpoint {
  const t = text.trim();
  const hint = `give unix:///path/to/flotilla.sock or http(s)://host:port (with --driver etcd, give etcd URLs)`;
  if (t.includes(',')) throw new UsageError(`invalid ${from} ${JSON.stringify(text)}: the API driver talks to one flotillad: ${hint}`);
  if (t.startsWith('unix://')) {
    const socket = t.slice('unix://'.length);
    if (!socket.startsWith('/')) throw new UsageError(`invalid ${from} ${JSON.stringify(text)}: the socket path must be absolute: ${hint}`);
    return { kind: 'unix', socket, text: t };
  }
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new UsageError(`invalid ${from} ${JSON.stringify(text)}: ${hint}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.replace(/\/$/, '') !== '' || url.search !== '' || url.username !== '') {
    throw new UsageError(`invalid ${from} ${JSON.stringify(text)}: ${hint}`);
  }
  const kind = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? (kind === 'https' ? 443 : 80) : Number(url.port);
  return { kind, host: url.hostname.replace(/^\[|\]$/g, ''), port, text: t };
}

export interface TransportTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The flag or variable each file came from, for messages. */
  names: { caFile: string; certFile: string; keyFile: string };
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** The API answered 4xx/5xx: its message, and the status for callers that treat 404 as "none". */
export class ApiRequestError extends FlotillaError {
  constructor(
    readonly status: number,
    message: string,
    /** The `index` of the error body (the event stream's 410: where to resume after rereading). */
    readonly index?: number,
  ) {
    super(message);
  }
}

/** Longest ndjson line accepted from the stream: anything longer is not flotillad's. */
const MAX_LINE = 1024 * 1024;

/** An open ndjson answer, line by line; ends when the connection does (or close() is called). */
export class ApiLines {
  constructor(
    private readonly req: ClientRequest,
    private readonly res: IncomingMessage,
  ) {}

  async *lines(): AsyncGenerator<string> {
    let rest = '';
    this.res.setEncoding('utf8');
    try {
      for await (const chunk of this.res as AsyncIterable<string>) {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line.trim() !== '') yield line;
        }
        if (rest.length > MAX_LINE) throw new FlotillaError(`the event stream sent a line over ${MAX_LINE} bytes`);
      }
    } catch {
      // A dropped connection ends the lines; the caller resumes from the last index it saw.
    } finally {
      this.req.destroy();
    }
  }

  close(): void {
    this.req.destroy();
  }
}

/** Nothing answers at the endpoint, or flotillad cannot reach etcd (its 503): exit 3, like an unreachable etcd. */
export class ApiUnreachableError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.message = message;
  }
}

function readFile(path: string, from: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${from} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): give a readable PEM file`);
  }
}

/** Opens a stream to the endpoint's socket some other way than connect(2): --tunnel's SSH channels. */
export interface StreamDialer {
  open(): Promise<Duplex>;
  close(): void;
}

/** fleetctl forwarded TCP for a TCP endpoint; Flotilla's tunnel carries the unix socket only. */
export function tunnelNeedsSocket(endpoint: string): string {
  return `--tunnel with the API driver reaches flotillad's unix socket on the bastion, and ${endpoint} is not one: give --endpoint unix:///path/to/flotilla.sock (the path on the bastion)`;
}

/** A keep-alive agent whose connections come from a dialer (its errors pass through as they are). */
class DialingAgent extends HttpAgent {
  constructor(private readonly dialer: StreamDialer) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  override createConnection(_opts: unknown, done?: (err: Error | null, stream: Duplex) => void): undefined {
    this.dialer.open().then(
      (stream) => done?.(null, stream),
      (err: Error) => done?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

const DEFAULT_NAMES = { caFile: '--ca-file', certFile: '--cert-file', keyFile: '--key-file' };

/**
 * node:https (and with it tls and crypto, ~2 ms at every start) only for an
 * https endpoint: the unix socket, flotctl's default, is plain HTTP. A
 * require, so the constructor stays synchronous.
 */
const https = (): typeof import('node:https') => createRequire(import.meta.url)('node:https') as typeof import('node:https');

/**
 * No TLS server name for plain HTTP. Node's agent otherwise derives one from
 * the host for every request and, to leave out IPs, tests it against its
 * IPv6 pattern, whose first use compiles it (~5 ms, a fifth of a bare Node
 * start); over a unix socket or http:// the name is never used.
 */
const PLAIN = { servername: '' };

export class ApiTransport {
  private readonly agent: HttpAgent;
  private readonly names: TransportTls['names'];

  constructor(
    readonly endpoint: ApiEndpoint,
    private readonly timeoutMs: number,
    tls: TransportTls | undefined,
    private readonly dialer?: StreamDialer,
  ) {
    this.names = tls?.names ?? DEFAULT_NAMES;
    if (dialer) {
      if (endpoint.kind !== 'unix') throw new UsageError(tunnelNeedsSocket(endpoint.text));
      this.agent = new DialingAgent(dialer);
    } else if (endpoint.kind === 'https') {
      const ca = tls?.caFile ? readFile(tls.caFile, tls.names.caFile) : undefined;
      const cert = tls?.certFile ? readFile(tls.certFile, tls.names.certFile) : undefined;
      const key = tls?.keyFile ? readFile(tls.keyFile, tls.names.keyFile) : undefined;
      if (Boolean(cert) !== Boolean(key)) throw new UsageError(`${tls?.names.certFile} and ${tls?.names.keyFile} go together: give both or neither`);
      this.agent = new (https().Agent)({ keepAlive: true, maxSockets: 8, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) });
    } else {
      // A unix socket is guarded by its file mode: TLS files (set for etcd, say) do not apply to it.
      if (endpoint.kind === 'http' && tls && (tls.caFile || tls.certFile || tls.keyFile)) {
        throw new UsageError(`${tls.caFile ? tls.names.caFile : tls.certFile ? tls.names.certFile : tls.names.keyFile} is set but ${endpoint.text} is not https://: use an https:// endpoint or drop the TLS files`);
      }
      this.agent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
    }
  }

  /** A JSON request; rejects with ApiRequestError (4xx/5xx), ApiUnreachableError, or the not-a-Flotilla-API line. */
  async request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const { res } = await this.send(method, path, body, 'application/json', this.timeoutMs);
    return this.answer(res, await readAll(res));
  }

  /**
   * A GET answered with ndjson (the event stream): resolves once its 200 has
   * arrived; other answers reject as request() does (a 410 as
   * ApiRequestError with its body's index). After the headers the request
   * timeout no longer applies: `idleMs` without a byte (heartbeats included) ends it.
   */
  async openLines(path: string, idleMs: number): Promise<ApiLines> {
    const { req, res } = await this.send('GET', path, undefined, 'application/x-ndjson', this.timeoutMs);
    if (res.statusCode !== 200 || !String(res.headers.server ?? '').startsWith('flotillad/')) {
      this.answer(res, await readAll(res));
      throw this.notFlotilla(`HTTP ${res.statusCode} without a stream`);
    }
    req.setTimeout(idleMs);
    return new ApiLines(req, res);
  }

  /** The checks every answer gets; the parsed body of a success. */
  private answer(res: IncomingMessage, text: string): ApiAnswer {
    const server = String(res.headers.server ?? '');
    if (!server.startsWith('flotillad/')) throw this.notFlotilla(`HTTP ${res.statusCode}${server ? ` from ${server.split(' ')[0]}` : ''}`);
    let parsed: unknown;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw this.notFlotilla('the answer is not JSON');
      }
    }
    const status = res.statusCode ?? 0;
    if (status < 400) return { status, body: parsed };
    const message = errorMessageOf(parsed) || `HTTP ${status}`;
    if (status === 503) throw new ApiUnreachableError(`flotillad at ${this.endpoint.text}: ${message}`);
    if (status === 400 || status === 409 || status === 413 || status === 415) throw new InvalidInputError(message);
    if (status === 500) throw new FlotillaError(`flotillad at ${this.endpoint.text} failed the request (HTTP 500): see its log`);
    throw new ApiRequestError(status, message, errorIndexOf(parsed));
  }

  private notFlotilla(why: string): FlotillaError {
    return new FlotillaError(`${this.endpoint.text} is not a Flotilla API (${why}): to talk to etcd directly use --driver etcd`);
  }

  private send(method: string, path: string, body: unknown, accept: string, timeoutMs: number): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { Accept: accept };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const e = this.endpoint;
    return new Promise((resolve, reject) => {
      const opts = { method, path, headers, agent: this.agent, timeout: timeoutMs };
      const got = (res: IncomingMessage): void => resolve({ req, res });
      const req: ClientRequest = e.kind === 'unix'
        ? httpRequest({ ...opts, ...PLAIN, socketPath: e.socket }, got)
        : e.kind === 'https'
          ? https().request({ ...opts, host: e.host, port: e.port }, got)
          : httpRequest({ ...opts, ...PLAIN, host: e.host, port: e.port }, got);
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${(req.socket?.timeout ?? timeoutMs) / 1000} s (see --request-timeout)`), { code: 'TIMEOUT' })));
      // The tunnel's own errors (SSH refused, no forwarder there) already say what to fix.
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof FlotillaError ? err : this.unreachable(err)));
      req.end(payload);
    });
  }

  private unreachable(err: NodeJS.ErrnoException): FlotillaError {
    const e = this.endpoint;
    if (err.code === 'HPE_INVALID_CONSTANT' || err.code === 'HPE_INVALID_HEADER_TOKEN' || err.code?.startsWith('HPE_')) return this.notFlotilla('it does not speak HTTP/1.1');
    if (err.code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message)) return this.notFlotilla('TLS failed; is it https?');
    // TLS refusals are settings to fix (exit 1), not outages.
    const n = this.names;
    if (/certificate required/i.test(err.message)) return new FlotillaError(`${e.text} requires a client certificate: give ${n.certFile} and ${n.keyFile}`);
    if (/alert (bad certificate|unknown ca|certificate unknown|decrypt error)/i.test(err.message)) {
      return new FlotillaError(`${e.text} refused the client certificate of ${n.certFile}: give one signed by the CA in its api_cafile`);
    }
    if (/self[- ]signed|unable to (get|verify)|certificate (has expired|is not yet valid)|altnames|Hostname\/IP does not match/i.test(err.message)) {
      return new FlotillaError(`the certificate of ${e.text} is not trusted (${firstLine(err.message)}): give ${n.caFile} with the CA that signed it`);
    }
    if (err.code === 'ECONNRESET' || /socket hang up/.test(err.message)) {
      // With TLS 1.3 a refused client certificate reaches the client only as a closed connection.
      const hint = e.kind === 'http' ? 'does it serve https://?' : `a TLS listener closes the connection when it refuses the client certificate of ${n.certFile}: it must be signed by the CA in its api_cafile`;
      return new ApiUnreachableError(`flotillad API unreachable at ${e.text}: ${err.message} (${hint})`);
    }
    if (err.code === 'ENOENT' && e.kind === 'unix') return new ApiUnreachableError(`flotillad API unreachable at ${e.text}: no socket at ${e.socket} (is flotillad running here? see api_socket)`);
    if (err.code === 'EACCES' && e.kind === 'unix') return new ApiUnreachableError(`flotillad API unreachable at ${e.text}: permission denied on ${e.socket}: join its group (api_socket_group) or run as root`);
    return new ApiUnreachableError(`flotillad API unreachable at ${e.text}: ${err.message}`);
  }

  close(): void {
    this.agent.destroy();
    this.dialer?.close();
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function errorIndexOf(body: unknown): number | undefined {
  const i = (body as { error?: { index?: unknown } } | undefined)?.error?.index;
  return typeof i === 'number' && Number.isSafeInteger(i) ? i : undefined;
}

function errorMessageOf(body: unknown): string {
  const e = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof e?.message === 'string' ? e.message : '';
}
