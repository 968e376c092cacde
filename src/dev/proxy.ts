/**
 * A pausable TCP proxy on loopback, to cut one host's flotillad off from etcd
 * while its systemd (and everything else on the machine) keeps working: the
 * partition tests route that agent's etcd traffic through it.
 *
 * Two ways to partition, because real networks fail both ways:
 * - 'blackhole': packets are dropped. Open connections stop moving in both
 *   directions and new ones are accepted but never answered, so the client
 *   only notices through its own deadlines. On heal, held connections carry
 *   on (TCP would have retransmitted) and held new ones are connected.
 * - 'reset': the path answers with RST. Open connections are reset at once
 *   and new ones are reset on arrival; on heal, connections work again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type PartitionMode = 'blackhole' | 'reset';

export interface ProxyOptions {
  /** Where to forward, e.g. an etcd member's client URL http://127.0.0.1:P. */
  target: string;
  /** 0 (default): a free port chosen by the kernel. */
  port?: number;
}

interface Conn {
  client: Socket;
  upstream: Socket | undefined;
}

const LOOPBACK = '127.0.0.1';

export class TcpProxy {
  private readonly conns = new Set<Conn>();
  private mode: PartitionMode | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly targetHost: string,
    private readonly targetPort: number,
    readonly port: number,
  ) {}

  static async start(opts: ProxyOptions): Promise<TcpProxy> {
    const target = new URL(opts.target);
    const targetPort = Number(target.port);
    if (!Number.isInteger(targetPort) || targetPort <= 0) throw new Error(`proxy target ${opts.target} has no port`);
    const server = createServer({ noDelay: true });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: opts.port ?? 0, exclusive: true }, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
    const proxy = new TcpProxy(server, target.hostname, targetPort, port);
    // TLS passes through untouched: the proxy of an https member is reached with https.
    proxy.scheme = target.protocol;
    server.on('connection', (s) => proxy.accept(s));
    // A listening server only errors on fatal conditions; keep the process alive regardless.
    server.on('error', () => undefined);
    return proxy;
  }

  private scheme = 'http:';

  /** The URL clients use instead of the target's. */
  get url(): string { return `${this.scheme}//${LOOPBACK}:${this.port}`; }
  get partitioned(): PartitionMode | undefined { return this.mode; }
  get connections(): number { return this.conns.size; }

  pause(mode: PartitionMode = 'blackhole'): void {
    if (this.closed) return;
    this.mode = mode;
    for (const c of [...this.conns]) {
      if (mode === 'reset') this.drop(c);
      else {
        c.client.pause();
        c.upstream?.pause();
      }
    }
  }

  resume(): void {
    if (this.closed || !this.mode) return;
    this.mode = undefined;
    for (const c of [...this.conns]) {
      if (c.upstream) {
        c.client.resume();
        c.upstream.resume();
      } else {
        this.dial(c);
      }
    }
  }

  /** Stop listening and drop every connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.conns]) this.drop(c);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.closed || this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const c: Conn = { client, upstream: undefined };
    this.conns.add(c);
    client.on('close', (hadError) => this.drop(c, !hadError));
    // Nothing is read until the upstream exists: bytes wait in the kernel, as on a slow network.
    client.pause();
    if (!this.mode) this.dial(c);
  }

  private dial(c: Conn): void {
    const upstream = connect({ host: this.targetHost, port: this.targetPort, noDelay: true });
    c.upstream = upstream;
    upstream.on('error', () => undefined);
    // A dead member refuses the connection: pass that on as a reset, as a direct connection would see.
    upstream.on('close', (hadError) => this.drop(c, !hadError));
    upstream.once('connect', () => {
      if (!this.conns.has(c)) return;
      forward(c.client, upstream, () => this.mode === 'blackhole');
      forward(upstream, c.client, () => this.mode === 'blackhole');
      if (!this.mode) {
        c.client.resume();
        upstream.resume();
      } else {
        c.client.pause();
        upstream.pause();
      }
    });
  }

  /**
   * One side has closed. A clean close is passed on as a FIN once the other
   * side has flushed; anything else (a refused dial, a reset, a partition)
   * as a reset. The pair stays tracked until both sockets are gone, so
   * close() can still find a lingering half.
   */
  private drop(c: Conn, graceful = false): void {
    const sockets = [c.client, c.upstream].filter((s): s is Socket => s !== undefined);
    if (sockets.every((s) => s.destroyed)) {
      this.conns.delete(c);
      return;
    }
    for (const s of sockets) {
      if (s.destroyed) continue;
      if (graceful && !this.closed) s.end();
      else if (s === c.client) s.resetAndDestroy();
      else s.destroy();
    }
    if (!graceful || this.closed) this.conns.delete(c);
  }
}

/**
 * Plain pipe with backpressure, but one that never resumes a side the proxy
 * has paused: stream.pipe() would resume the source on the next 'drain'.
 */
function forward(from: Socket, to: Socket, held: () => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  from.on('end', () => to.end());
  to.on('drain', () => {
    if (!held()) from.resume();
  });
}
