/** A real host (dbus-daemon + systemd --user) plus a connected manager, for the systemd tests. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { killHost, startHost, systemctl, type HostProcess } from '../../src/dev/host.js';
import { SystemdManager } from '../../src/systemd/manager.js';

export interface Fixture {
  host: HostProcess;
  manager: SystemdManager;
  unitDir: string;
  /** Write a unit file outside systemd's search path; returns its path (for linkUnitFiles). */
  writeUnit(name: string, body: string): Promise<string>;
  /** `systemctl --user show -p ...` as a record. */
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export async function startFixture(name: string): Promise<Fixture> {
  // Short: unix socket paths below the host dir are limited to 107 bytes.
  const dir = await mkdtemp('/tmp/fsd-');
  const host = await startHost({ dir, name });
  let manager: SystemdManager;
  try {
    manager = await SystemdManager.connect(host.busAddress);
  } catch (err) {
    await killHost(host);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const unitDir = join(dir, 'units');
  await mkdir(unitDir, { recursive: true });
  return {
    host,
    manager,
    unitDir,
    async writeUnit(unit, body) {
      const path = join(unitDir, unit);
      await writeFile(path, body);
      return path;
    },
    async show(unit, props) {
      const r = await systemctl(host, ['show', unit, ...props.map((p) => `--property=${p}`)]);
      if (r.code !== 0) throw new Error(`systemctl show ${unit} failed: ${r.stderr}`);
      const out: Record<string, string> = {};
      for (const line of r.stdout.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return out;
    },
    async cleanup() {
      manager.close();
      await killHost(host);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every match rule on the host's bus, by connection (dbus-daemon's Debug.Stats interface). */
export async function allMatchRules(busAddress: string): Promise<Record<string, string[]>> {
  const bus = dbus.sessionBus({ busAddress });
  bus.on('error', () => undefined);
  try {
    const reply = await bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus.Debug.Stats',
        member: 'GetAllMatchRules',
      }),
    );
    return (reply?.body[0] ?? {}) as Record<string, string[]>;
  } finally {
    bus.disconnect();
  }
}
