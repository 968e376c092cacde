/**
 * Looks at a host through its own systemd (systemctl --user on that host's
 * bus), never through Flotilla, so tests check what really runs.
 */
import { leadingCandidate } from '../../src/engine/leader-rule.js';
import type { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { connectStore } from '../../src/registry/store.js';

export interface HostUnit {
  load: string;
  active: string;
  sub: string;
  mainPid: number;
}

export async function hostUnit(cluster: LocalCluster, host: number, unit: string): Promise<HostUnit> {
  const r = await cluster.systemctl(host, ['show', '-p', 'LoadState,ActiveState,SubState,MainPID', unit]);
  const props = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { load: props.LoadState ?? '', active: props.ActiveState ?? '', sub: props.SubState ?? '', mainPid: Number(props.MainPID ?? 0) };
}

/** Indexes of the hosts (among those listed) where `unit` is active. */
export async function hostsRunning(cluster: LocalCluster, unit: string, among?: number[]): Promise<number[]> {
  const idx = among ?? cluster.hosts.map((_, i) => i);
  const states = await Promise.all(idx.map(async (i) => ({ i, s: await hostUnit(cluster, i, unit).catch(() => undefined) })));
  return states.filter((x) => x.s?.active === 'active').map((x) => x.i);
}

/** Machine id of the elected engine: the candidate key with the lowest create revision. */
export async function engineLeader(cluster: LocalCluster): Promise<string | undefined> {
  const etcd = connectStore({ endpoints: cluster.endpoints });
  try {
    const res = await etcd.getAll().prefix(new Keys(cluster.prefix).electionPrefix).exec();
    return leadingCandidate(res.kvs.map((kv) => ({ createRevision: Number(kv.create_revision), value: kv.value.toString() })))?.value;
  } finally {
    etcd.close();
  }
}

export function hostIndexOf(cluster: LocalCluster, machineId: string): number {
  return cluster.hosts.findIndex((h) => h.machineId === machineId);
}
