/**
 * Benchmark: a rolling replace of 10 running units by `flotctl sync
 * --max-parallel 2 --min-healthy-time 1s` on a real 3-host cluster, against
 * two baselines measured in the same run: `flotctl start` of the same 10
 * unit files on an empty cluster (all at once), and the same replace with
 * --max-parallel 10 (one batch through the same rollout machinery). Every
 * figure is a whole flotctl process that returns once every unit is healthy.
 * The floor of the rolling replace is its gate: 5 batches x 1s.
 *
 *   node dist/test/bench/rollout.js      (ROUNDS=1 UNITS=10 by default)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { percentile } from './stats.js';
import { commitAll, git } from '../support/git.js';
import { emptyCluster, timedFlotctl } from './support/sync-runs.js';

const ROUNDS = Number(process.env.ROUNDS ?? 1);
const UNITS = Number(process.env.UNITS ?? 10);
const PARALLEL = 2;
const MIN_HEALTHY_MS = 1000;

const run = timedFlotctl;
const empty = emptyCluster;

runClusterBenchmark('bench-rollout', { hosts: 3, ttlSeconds: 10 }, async (cluster, registry) => {
  const env = cluster.flotctlEnv();
  const dir = await mkdtemp('/tmp/fl-bench-rollout-repo-');
  try {
    const names = Array.from({ length: UNITS }, (_, i) => `roll-${i}.service`);
    let version = 0;
    const commit = async (): Promise<void> => {
      version++;
      for (const n of names) await writeFile(join(dir, n), `[Unit]\nDescription=${n} v${version}\n\n[Service]\nExecStart=/bin/sleep infinity\n`);
      commitAll(dir, `v${version}`);
    };
    git(dir, 'init', '-q', '-b', 'main');
    await commit();
    const source = dir.slice(1);
    const gate = `${MIN_HEALTHY_MS / 1000}s`;
    const start: number[] = [];
    const rolling: number[] = [];
    const oneBatch: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await empty(registry, env, source);
      start.push(await run(env, ['start', ...names.map((n) => join(dir, n))]));
      await empty(registry, env, source);
      await run(env, ['sync', dir]);
      await commit();
      rolling.push(await run(env, ['sync', '--max-parallel', String(PARALLEL), '--min-healthy-time', gate, dir]));
      await commit();
      oneBatch.push(await run(env, ['sync', '--max-parallel', String(UNITS), '--min-healthy-time', gate, dir]));
      console.log(`round ${round + 1}: start ${start.at(-1)} ms, rolling ${rolling.at(-1)} ms, one batch ${oneBatch.at(-1)} ms`);
    }
    const s = percentile(start, 50);
    const r = percentile(rolling, 50);
    const o = percentile(oneBatch, 50);
    const batches = Math.ceil(UNITS / PARALLEL);
    const floor = batches * MIN_HEALTHY_MS;
    console.log(`${UNITS} running units on 3 hosts, whole flotctl process, median of ${ROUNDS}:`);
    console.log(`  flotctl start of the ${UNITS} files (empty cluster, all at once): ${s.toFixed(0)} ms`);
    console.log(`  sync --max-parallel ${UNITS} --min-healthy-time ${gate} (one batch):   ${o.toFixed(0)} ms (${(o / s).toFixed(2)}x start)`);
    console.log(`  sync --max-parallel ${PARALLEL} --min-healthy-time ${gate} (${batches} batches):  ${r.toFixed(0)} ms (${(r / s).toFixed(2)}x start, ${(r / o).toFixed(2)}x one batch; gate floor ${floor} ms, ${((r - floor) / batches).toFixed(0)} ms per batch above it)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
