/**
 * Watches units that must not be touched: each pinned to the host and MainPID
 * it had when the watch began. A sampler reads every host's systemd directly,
 * several times a second, and records every sample in which a pinned unit is
 * not active with that MainPID on that host, or is running on another host
 * too. It also checks that no unit of `singletons` runs on two hosts at once.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { errorMessage } from '../../src/util/errors.js';
import { HostSystemd, RUNNING_STATES } from './host-systemd.js';
import { Periodic } from './periodic.js';

export interface Pin { host: number; mainPid: number }

export class PinWatch {
  samples = 0;
  readonly violations: string[] = [];
  private readonly systemd: HostSystemd;
  private readonly sampler: Periodic;

  constructor(
    cluster: LocalCluster,
    readonly pins: ReadonlyMap<string, Pin>,
    private readonly singletons: readonly string[] = [],
    everyMs = 100,
  ) {
    const names = new Set([...pins.keys(), ...singletons]);
    this.systemd = new HostSystemd(cluster, (u) => names.has(u));
    this.sampler = new Periodic(everyMs, () => this.sample());
  }

  /** Pins every unit to where it is active now; throws unless each is active on exactly one host. */
  static async pinNow(cluster: LocalCluster, units: readonly string[]): Promise<Map<string, Pin>> {
    const systemd = new HostSystemd(cluster, (u) => units.includes(u));
    try {
      const views = await systemd.viewAll();
      const pins = new Map<string, Pin>();
      for (const unit of units) {
        const on = views.filter((v) => v.running?.get(unit)?.active === 'active').map((v) => v.host);
        if (on.length !== 1) throw new Error(`${unit} is active on hosts [${on.join(',')}], not exactly one`);
        const host = on[0] as number;
        const status = (await systemd.mainPids(host, [unit])).get(unit);
        if (!status?.mainPid) throw new Error(`${unit} has no MainPID on host ${host + 1}`);
        pins.set(unit, { host, mainPid: status.mainPid });
      }
      return pins;
    } finally {
      systemd.close();
    }
  }

  start(): void {
    this.sampler.start();
  }

  async stop(): Promise<void> {
    await this.sampler.stop();
    this.systemd.close();
  }

  /** One sample: every host's running units, then the pinned units' MainPIDs on their hosts. */
  private async sample(): Promise<void> {
    const at = new Date().toISOString();
    const views = await this.systemd.viewAll();
    const byHost = new Map<number, string[]>();
    for (const [unit, pin] of this.pins) byHost.set(pin.host, [...(byHost.get(pin.host) ?? []), unit]);
    const pids = new Map<string, { active: string; mainPid: number }>();
    for (const [host, units] of byHost) {
      try {
        for (const [u, s] of await this.systemd.mainPids(host, units)) pids.set(u, s);
      } catch (err) {
        this.violations.push(`${at} cannot read host ${host + 1}: ${errorMessage(err)}`);
      }
    }
    this.samples++;
    for (const [unit, pin] of this.pins) {
      const now = pids.get(unit);
      if (now && (now.active !== 'active' || now.mainPid !== pin.mainPid)) {
        this.violations.push(`${at} ${unit} on host ${pin.host + 1}: ${now.active} MainPID ${now.mainPid}, pinned ${pin.mainPid}`);
      }
      const elsewhere = views.filter((v) => v.host !== pin.host && v.running?.has(unit)).map((v) => v.host + 1);
      if (elsewhere.length > 0) this.violations.push(`${at} ${unit} also running on host(s) ${elsewhere.join(',')}`);
    }
    for (const unit of this.singletons) {
      const on = views.filter((v) => RUNNING_STATES.has(v.running?.get(unit)?.active ?? '')).map((v) => v.host + 1);
      if (on.length > 1) this.violations.push(`${at} singleton ${unit} running on hosts ${on.join(',')}`);
    }
    for (const v of views) if (v.error) this.violations.push(`${at} cannot read host ${v.host + 1}: ${v.error}`);
  }
}
