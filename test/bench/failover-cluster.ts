/**
 * What the failover benchmark observes, from outside Flotilla: where units
 * really run (every host's systemd, polled every 25 ms), the elected engine,
 * and a way to launch a unit without a flotctl process in the timed path.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { Registry } from '../../src/registry/registry.js';
import { connectStore } from '../../src/registry/store.js';
import { UnitFile } from '../../src/unit/index.js';
import { HostSystemd } from '../support/host-systemd.js';

const POLL_MS = 25;
const CONTENT = '[Service]\nExecStart=/bin/sleep infinity\n';

export class Observer {
  readonly registry: Registry;
  private readonly systemd: HostSystemd;
  readonly units = new Set<string>();

  constructor(
    private readonly cluster: LocalCluster,
    private readonly signal: AbortSignal,
  ) {
    this.registry = new Registry(connectStore({ endpoints: cluster.endpoints }), cluster.prefix);
    this.systemd = new HostSystemd(cluster, (u) => this.units.has(u));
  }

  close(): void {
    this.systemd.close();
    this.registry.etcd.close();
  }

  async launch(name: string): Promise<void> {
    const file = UnitFile.parse(CONTENT);
    this.units.add(name);
    await this.registry.putUnit({ name, hash: file.hash(), desired: 'launched' }, file.serialize());
  }

  /** unit -> indexes of the hosts (among `hosts`) where it is active. Unreadable hosts count as running nothing. */
  async placement(hosts: readonly number[] = this.cluster.hosts.map((_, i) => i)): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>([...this.units].map((u) => [u, []]));
    for (const v of await this.systemd.viewAll(hosts)) {
      for (const [unit, seen] of v.running ?? []) if (seen.active === 'active') out.get(unit)?.push(v.host);
    }
    return out;
  }

  unitsOn(placement: Map<string, number[]>, host: number): string[] {
    return [...placement].filter(([, on]) => on.includes(host)).map(([u]) => u);
  }

  /** ms from `t0` until check() holds, polling; undefined if it did not within timeoutMs. */
  async until(t0: number, timeoutMs: number, check: () => Promise<boolean>): Promise<number | undefined> {
    for (;;) {
      if (this.signal.aborted) throw new Error('interrupted');
      if (await check()) return performance.now() - t0;
      if (performance.now() - t0 > timeoutMs) return undefined;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Every unit active on exactly one host, and every host's agent registered with an engine elected. */
  async settled(): Promise<boolean> {
    const p = await this.placement();
    if ([...p.values()].some((on) => on.length !== 1)) return false;
    const machines = new Set(await this.registry.listMachineIds());
    if (!this.cluster.hosts.every((h) => machines.has(h.machineId))) return false;
    return (await this.cluster.engineHost()) !== undefined;
  }
}

export interface Figure { label: string; ms: (number | undefined)[] }

export function formatFigure(f: Figure): string {
  const done = f.ms.filter((m): m is number => m !== undefined).sort((a, b) => a - b);
  const missed = f.ms.length - done.length;
  const s = (ms: number | undefined) => (ms === undefined ? '   n/a' : `${(ms / 1000).toFixed(2).padStart(6)}`);
  const median = done.length ? done[Math.floor((done.length - 1) / 2)] : undefined;
  return `  ${f.label.padEnd(58)} n=${f.ms.length}  median ${s(median)} s  min ${s(done[0])} s  max ${s(done[done.length - 1])} s${missed ? `  (${missed} never)` : ''}`;
}
