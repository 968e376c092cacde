/**
 * Per-host etcd proxies: a host routed through them has, in its flotillad
 * config, one proxy URL per etcd member instead of the members' own URLs.
 * One proxy per member keeps the client's own view of the members intact: a
 * member that dies refuses connections through its proxy just as it would
 * directly, and the client fails over as it would without us.
 *
 * The proxies live in the process that started the cluster. A proxied host
 * keeps its proxy ports across restartHost (its config names them), and loses
 * etcd when that process exits, which is then tearing the cluster down anyway.
 */
import { InvalidInputError } from '../util/errors.js';
import { TcpProxy, type PartitionMode } from './proxy.js';

export class EtcdProxies {
  private readonly byHost = new Map<string, TcpProxy[]>();

  constructor(private readonly memberUrls: () => string[]) {}

  /** The etcd URLs a host should use: its proxies (made on first use). */
  async endpointsFor(host: string): Promise<string[]> {
    let proxies = this.byHost.get(host);
    if (!proxies) {
      proxies = [];
      this.byHost.set(host, proxies);
      for (const target of this.memberUrls()) proxies.push(await TcpProxy.start({ target }));
    }
    return proxies.map((p) => p.url);
  }

  has(host: string): boolean {
    return this.byHost.has(host);
  }

  partition(host: string, mode: PartitionMode = 'blackhole'): void {
    for (const p of this.of(host)) p.pause(mode);
  }

  heal(host: string): void {
    for (const p of this.of(host)) p.resume();
  }

  /** How host is cut off, or undefined while it reaches etcd. */
  partitioned(host: string): PartitionMode | undefined {
    return this.byHost.get(host)?.[0]?.partitioned;
  }

  async closeAll(): Promise<void> {
    const all = [...this.byHost.values()].flat();
    this.byHost.clear();
    await Promise.all(all.map((p) => p.close()));
  }

  private of(host: string): TcpProxy[] {
    const proxies = this.byHost.get(host);
    if (!proxies) throw new InvalidInputError(`${host} does not reach etcd through a proxy: start the cluster with etcdProxy`);
    return proxies;
  }
}
