/**
 * The frame of a benchmark on a real local cluster: start it, hand over a
 * registry on its etcd, and always tear it down; a failure prints one line
 * and exits 1 (a benchmark's output is read by people, not test runners).
 */
import { mkdtemp } from 'node:fs/promises';
import { LocalCluster, type ClusterOptions } from '../../../src/dev/cluster.js';
import { Registry } from '../../../src/registry/registry.js';
import { connectStore } from '../../../src/registry/store.js';

export function runClusterBenchmark(
  name: string,
  opts: Omit<ClusterOptions, 'dir'>,
  body: (cluster: LocalCluster, registry: Registry) => Promise<void>,
): void {
  const run = async (): Promise<void> => {
    const cluster = await LocalCluster.start({ ...opts, dir: await mkdtemp(`/tmp/fl-${name}-`) });
    const etcd = connectStore({ endpoints: cluster.endpoints });
    try {
      await body(cluster, new Registry(etcd, cluster.prefix));
    } finally {
      etcd.close();
      await cluster.down();
    }
  };
  run().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
