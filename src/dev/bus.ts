/** The one D-Bus question the dev cluster asks: does this host's systemd Manager answer? */
import { sessionBus, Message, type MessageBus } from 'dbus-next';

/**
 * Poll a manager's Version property over a single connection. Until systemd
 * has taken its name, the bus answers ServiceUnknown at once (there is no
 * activation file), so polling is cheap.
 */
export class ManagerProbe {
  private readonly bus: MessageBus;
  private lastError: Error | undefined;

  constructor(busAddress: string) {
    this.bus = sessionBus({ busAddress });
    // An unhandled 'error' event would crash the process; keep it for the caller.
    this.bus.on('error', (err: Error) => { this.lastError = err; });
  }

  /** The manager's version string, or undefined while it is not on the bus yet. */
  async version(): Promise<string | undefined> {
    if (this.lastError) throw this.lastError;
    const reply = await this.bus.call(new Message({
      destination: 'org.freedesktop.systemd1',
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: ['org.freedesktop.systemd1.Manager', 'Version'],
    }));
    const v = reply?.body[0] as { value?: unknown } | undefined;
    return typeof v?.value === 'string' ? v.value : undefined;
  }

  close(): void {
    this.bus.disconnect();
  }
}
