/**
 * A thin, typed layer over a dbus-next MessageBus: raw method calls, raw
 * signals, and a reliable "the connection is gone" notification.
 *
 * dbus-next is untyped at the edges we use and has two gaps this file
 * closes: a pending call whose connection dies is never settled (its reply
 * handler just stays registered), and the socket closing is not surfaced on
 * the MessageBus at all. All of dbus-next's looseness stays in here.
 */
import dbus from 'dbus-next';
import { FlotillaError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** A D-Bus error reply (or a transport failure) from a call. `dbusName` is
 *  the D-Bus error name, e.g. org.freedesktop.systemd1.NoSuchUnit, or one
 *  of the `flotilla.*` names below for failures on our side of the bus. */
export class BusCallError extends FlotillaError {
  constructor(
    message: string,
    readonly dbusName: string,
  ) {
    super(message);
  }
}

export const DISCONNECTED = 'flotilla.Disconnected';
export const TIMEOUT = 'flotilla.Timeout';
export const LOCAL_ERROR = 'flotilla.LocalError';

export interface CallSpec {
  destination: string;
  path: string;
  iface: string;
  member: string;
  signature?: string;
  body?: unknown[];
  /** Reply deadline. dbus-daemon never times out a call for us, and a hung
   *  systemd must not hang the agent forever. */
  timeoutMs?: number;
}

export interface Signal {
  sender: string;
  path: string;
  iface: string;
  member: string;
  body: unknown[];
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

interface Pending {
  reject: (err: Error) => void;
}

export class BusConnection {
  private readonly pending = new Set<Pending>();
  private readonly signalListeners = new Set<(s: Signal) => void>();
  private readonly closeListeners = new Set<(err: Error) => void>();
  private closedWith: Error | undefined;

  private constructor(
    private readonly bus: any,
    private readonly log: Logger,
  ) {}

  /** Connect and complete the Hello handshake. */
  static open(busAddress: string, log: Logger, timeoutMs = 10_000): Promise<BusConnection> {
    let bus: any;
    try {
      bus = dbus.sessionBus({ busAddress });
    } catch (err) {
      // An unparsable address throws synchronously inside dbus-next.
      return Promise.reject(new BusCallError(`cannot connect to D-Bus at ${busAddress}: ${describe(err)}`, DISCONNECTED));
    }
    const conn = new BusConnection(bus, log);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.shutdown(new BusCallError(`no D-Bus handshake from ${busAddress} within ${timeoutMs} ms`, TIMEOUT));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(new BusCallError(`cannot connect to D-Bus at ${busAddress}: ${err.message}`, DISCONNECTED));
      };
      conn.onClose(fail);
      bus.on('connect', () => {
        clearTimeout(timer);
        conn.closeListeners.delete(fail);
        resolve(conn);
      });
      // Without a listener, an 'error' event (ECONNREFUSED, EPIPE, a
      // malformed message) would throw and take the whole process down.
      bus.on('error', (err: unknown) => {
        conn.shutdown(new BusCallError(`D-Bus connection error: ${describe(err)}`, DISCONNECTED));
      });
      bus.on('message', (msg: unknown) => conn.dispatch(msg));
      const stream = bus._connection?.stream;
      stream?.on('close', () => {
        conn.shutdown(new BusCallError('D-Bus connection closed', DISCONNECTED));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Send a method call; resolves with the reply body. */
  call(spec: CallSpec): Promise<unknown[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const what = `${spec.iface}.${spec.member}`;
    return new Promise<unknown[]>((resolve, reject) => {
      const timeoutMs = spec.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
      const entry: Pending = {
        reject: (err) => {
          clearTimeout(timer);
          this.pending.delete(entry);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        entry.reject(new BusCallError(`${what} got no reply within ${timeoutMs} ms`, TIMEOUT));
      }, timeoutMs);
      this.pending.add(entry);
      let msg: unknown;
      try {
        msg = new dbus.Message({
          destination: spec.destination,
          path: spec.path,
          interface: spec.iface,
          member: spec.member,
          signature: spec.signature ?? '',
          body: spec.body ?? [],
          // If systemd is not on the bus, dbus-daemon would otherwise try to
          // spawn it from a .service file (and fail slowly, spawning a process).
          flags: dbus.MessageFlag.NO_AUTO_START,
        });
      } catch (err) {
        // dbus-next validates paths and names while building the message.
        entry.reject(new BusCallError(`${what}: ${describe(err)}`, 'org.freedesktop.DBus.Error.InvalidArgs'));
        return;
      }
      (this.bus.call(msg) as Promise<{ body?: unknown[] } | null>).then(
        (reply) => {
          if (!this.pending.has(entry)) return; // already timed out or closed
          clearTimeout(timer);
          this.pending.delete(entry);
          resolve(reply?.body ?? []);
        },
        (err: unknown) => {
          if (!this.pending.has(entry)) return;
          entry.reject(toCallError(err, this.bus._connection?.stream?.writable === false));
        },
      );
    });
  }

  /** AddMatch on the bus daemon; signals then arrive via onSignal. */
  async addMatch(rule: string): Promise<void> {
    await this.call({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      iface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [rule],
    });
  }

  onSignal(listener: (s: Signal) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** Called once, with the reason, when the connection ends for any cause
   *  (including close()). */
  onClose(listener: (err: Error) => void): () => void {
    if (this.closedWith) {
      const err = this.closedWith;
      queueMicrotask(() => listener(err));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(reason?: Error): void {
    this.shutdown(reason ?? new BusCallError('D-Bus connection closed by us', DISCONNECTED));
  }

  private shutdown(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    for (const p of [...this.pending]) p.reject(reason);
    try {
      this.bus.disconnect();
    } catch {
      // The stream may already be destroyed; nothing left to release.
    }
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    this.signalListeners.clear();
    for (const l of listeners) {
      try {
        l(reason);
      } catch (err) {
        this.log.error({ err: describe(err) }, 'D-Bus close listener failed');
      }
    }
  }

  private dispatch(raw: unknown): void {
    const msg = raw as { type?: number; sender?: string; path?: string; interface?: string; member?: string; body?: unknown[] };
    if (msg.type !== dbus.MessageType.SIGNAL) return;
    const signal: Signal = {
      sender: msg.sender ?? '',
      path: msg.path ?? '',
      iface: msg.interface ?? '',
      member: msg.member ?? '',
      body: msg.body ?? [],
    };
    for (const l of this.signalListeners) {
      // A throwing listener must not reach dbus-next: it would answer the
      // signal with an error message and skip the remaining listeners.
      try {
        l(signal);
      } catch (err) {
        this.log.error({ err: describe(err), member: signal.member }, 'D-Bus signal listener failed');
      }
    }
  }
}

function toCallError(err: unknown, streamClosed: boolean): BusCallError {
  if (err instanceof dbus.DBusError) {
    return new BusCallError(err.text || err.type, err.type);
  }
  // Not a reply: dbus-next threw while sending, either because the socket
  // is gone or because the body did not fit the signature (our bug).
  return new BusCallError(describe(err), streamClosed ? DISCONNECTED : LOCAL_ERROR);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
