/**
 * Every host's systemd, asked directly over its own bus (one D-Bus
 * connection per host, kept open): what really runs, never what Flotilla
 * believes runs. ListUnits costs a few ms per host, so sampling every host
 * several times a second is cheap enough for the chaos checker and benches.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { SystemdManager } from '../../src/systemd/manager.js';
import { errorMessage } from '../../src/util/errors.js';

/** ActiveStates in which a unit's processes may be alive: a copy "runs" in each of them. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['active', 'activating', 'deactivating', 'reloading']);

export interface UnitSeen { active: string; sub: string }

export interface HostView {
  host: number;
  /** Wall-clock ms when the answer arrived. */
  at: number;
  /** Units of interest in a running state; undefined when this host could not be asked. */
  running: Map<string, UnitSeen> | undefined;
  error?: string;
}

const CALL_TIMEOUT_MS = 2_000;

export class HostSystemd {
  private readonly managers = new Map<number, Promise<SystemdManager>>();

  /** `interesting`: which unit names to keep (all of them when omitted). */
  constructor(
    private readonly cluster: LocalCluster,
    private readonly interesting?: (unit: string) => boolean,
  ) {}

  /** One host's running units. A dead connection is dropped and made again on the next call. */
  async view(host: number): Promise<HostView> {
    try {
      const manager = await withTimeout(this.manager(host), CALL_TIMEOUT_MS, `connecting to host ${host + 1}'s systemd`);
      const units = await withTimeout(manager.listUnits(), CALL_TIMEOUT_MS, `ListUnits on host ${host + 1}`);
      const running = new Map<string, UnitSeen>();
      for (const u of units) {
        if (this.interesting && !this.interesting(u.name)) continue;
        if (RUNNING_STATES.has(u.active)) running.set(u.name, { active: u.active, sub: u.sub });
      }
      return { host, at: Date.now(), running };
    } catch (err) {
      this.drop(host);
      return { host, at: Date.now(), running: undefined, error: errorMessage(err) };
    }
  }

  /** ActiveState and MainPID of some units on one host (a Properties read each, no process spawned). */
  async mainPids(host: number, units: readonly string[]): Promise<Map<string, { active: string; mainPid: number }>> {
    try {
      const manager = await withTimeout(this.manager(host), CALL_TIMEOUT_MS, `connecting to host ${host + 1}'s systemd`);
      const statuses = await withTimeout(Promise.all(units.map((u) => manager.unitStatus(u))), CALL_TIMEOUT_MS, `unit status on host ${host + 1}`);
      return new Map(statuses.map((s) => [s.name, { active: s.active, mainPid: s.mainPid }]));
    } catch (err) {
      this.drop(host);
      throw err;
    }
  }

  /** All hosts at once, so a sample spans a few ms rather than hosts × round trip. */
  viewAll(hosts: readonly number[] = this.cluster.hosts.map((_, i) => i)): Promise<HostView[]> {
    return Promise.all(hosts.map((h) => this.view(h)));
  }

  close(): void {
    for (const host of [...this.managers.keys()]) this.drop(host);
  }

  private manager(host: number): Promise<SystemdManager> {
    let m = this.managers.get(host);
    if (!m) {
      const h = this.cluster.hosts[host];
      if (!h) return Promise.reject(new Error(`no host ${host}`));
      // The raw promise is kept (timeouts apply where it is awaited) so a late connection is still closed by drop().
      m = SystemdManager.connect(h.busAddress);
      this.managers.set(host, m);
      m.then((mgr) => mgr.onDisconnect(() => this.forget(host, m)), () => this.forget(host, m));
    }
    return m;
  }

  private forget(host: number, m: Promise<SystemdManager> | undefined): void {
    if (this.managers.get(host) === m) this.managers.delete(host);
  }

  private drop(host: number): void {
    const m = this.managers.get(host);
    this.managers.delete(host);
    m?.then((mgr) => mgr.close(), () => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
