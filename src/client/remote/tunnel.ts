/**
 * The API driver's --tunnel (fleetctl's, for a unix endpoint): each HTTP
 * connection to flotillad's socket is an exec channel on the bastion running
 * `flotctl fd-forward SOCKET`, whose stdin and stdout carry the HTTP bytes.
 * One SSH connection per flotctl process (opened on the first request, with
 * the same credentials and host-key checking as status/journal/ssh); a
 * channel costs ~6 ms on it (test-cluster-notes).
 *
 * The command run there is FLOTCTL_TUNNEL_FORWARDER (a shell command line the
 * socket path is appended to), `flotctl fd-forward` by default: flotctl must
 * be on the PATH of the bastion's SSH sessions, or the variable names how to
 * run it there (e.g. `/usr/bin/node /opt/flotilla/dist/bin/flotctl.js fd-forward`).
 */
import { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { FlotillaError, SshError } from '../../util/errors.js';
import { ApiUnreachableError } from '../api-transport.js';
import { shellQuote } from './commands.js';
import { type SshEndpoint, type SshSettings, connectHost } from './ssh.js';

export const DEFAULT_FORWARDER = 'flotctl fd-forward';

export interface SocketTunnelOptions {
  ssh: SshSettings;
  bastion: SshEndpoint;
  /** The unix socket's path on the bastion. */
  socket: string;
  /** Shell command line the quoted socket path is appended to. */
  forwarder: string;
}

export class SocketTunnel {
  private client: Promise<ssh2.Client> | undefined;
  private current: ssh2.Client | undefined;
  private readonly where: string;

  constructor(private readonly opts: SocketTunnelOptions) {
    this.where = `${opts.bastion.address}:${opts.bastion.port}`;
  }

  /** The forwarder command line run on the bastion. */
  get command(): string {
    return `${this.opts.forwarder} ${shellQuote(this.opts.socket)}`;
  }

  /** A new channel to the socket, as a socket-like stream for node:http. */
  async open(): Promise<Duplex> {
    this.client ??= this.connect();
    const client = await this.client;
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(this.command, (err, ch) => {
        if (err) reject(new SshError(`the tunnel ${this.where} refused to run ${this.opts.forwarder}: ${err.message}`));
        else resolve(ch);
      });
    });
    return new ChannelSocket(channel, (code, stderr) => this.failure(code, stderr));
  }

  private async connect(): Promise<ssh2.Client> {
    const client = await connectHost(this.opts.bastion, { ...this.opts.ssh, forwardAgent: false });
    // A connection lost later is not a crash: the requests on it fail, and the next one connects again.
    client.on('error', () => undefined);
    client.once('close', () => {
      if (this.client && this.current === client) this.client = undefined;
    });
    this.current = client;
    return client;
  }

  /** Why the forwarder ended before it carried a byte. */
  private failure(code: number | undefined, stderr: string): FlotillaError {
    const said = stderr.trim().split('\n')[0]?.slice(0, 300) ?? '';
    const endpoint = `unix://${this.opts.socket}`;
    if (code === 127 || /not found|No such file or directory.*fd-forward|unknown command/i.test(said)) {
      return new FlotillaError(
        `the tunnel ${this.where} cannot run "${this.opts.forwarder}"${said ? ` (${said})` : ''}: put flotctl on the PATH of its SSH sessions, or set FLOTCTL_TUNNEL_FORWARDER to the command that runs flotctl fd-forward there`,
      );
    }
    return new ApiUnreachableError(`flotillad API unreachable at ${endpoint} through the tunnel ${this.where}: ${said || `the forwarder exited ${code ?? 'without a status'}`}`);
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    void c?.then((x) => x.end(), () => undefined);
  }
}

/**
 * An exec channel dressed as the net.Socket node:http expects: idle timeouts,
 * no-op keep-alive and ref/unref (the SSH connection is what keeps the
 * process alive, and flotctl closes it). A forwarder that exits before any
 * answer byte becomes an error saying why, not "socket hang up".
 */
class ChannelSocket extends Duplex {
  private received = false;
  private channelEnded = false;
  private channelClosed = false;
  private code: number | undefined;
  private stderrText = '';
  private idleMs = 0;
  private idle: NodeJS.Timeout | undefined;
  timeout = 0;

  constructor(
    private readonly channel: ClientChannel,
    failure: (code: number | undefined, stderr: string) => FlotillaError,
  ) {
    super();
    channel.on('data', (d: Buffer) => {
      this.received = true;
      this.touch();
      if (!this.push(d)) channel.pause();
    });
    channel.stderr.on('data', (d: Buffer) => {
      if (this.stderrText.length < 4096) this.stderrText += d.toString('utf8');
    });
    channel.on('exit', (code: number | null) => {
      if (typeof code === 'number') this.code = code;
    });
    channel.on('end', () => {
      this.channelEnded = true;
    });
    channel.on('close', () => {
      this.channelClosed = true;
      clearTimeout(this.idle);
      if (!this.received && (this.code !== 0 || this.stderrText !== '')) {
        this.destroy(failure(this.code, this.stderrText));
        return;
      }
      this.push(null);
      // Our write side ends too: with the read side ended, the stream then closes itself.
      this.end();
    });
  }

  override _read(): void {
    if (!this.channelEnded) this.channel.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.channelClosed) return cb(new Error('the tunnel channel is closed'));
    this.touch();
    if (this.channel.write(chunk)) cb();
    else this.channel.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.channelClosed) this.channel.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.idle);
    if (!this.channelClosed) this.channel.close();
    cb(err);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    this.timeout = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idle);
    if (this.idleMs > 0 && !this.channelClosed) this.idle = setTimeout(() => this.emit('timeout'), this.idleMs);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
