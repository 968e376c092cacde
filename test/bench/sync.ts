/**
 * Benchmark: `flotctl sync` of 100 units from an empty cluster, against
 * `flotctl start` of the same 100 unit files in the same run, on a real
 * 3-host cluster. Both are whole flotctl processes that return once every
 * unit is active (sync: healthy) on its host; rounds alternate which goes
 * first, and the cluster is emptied (every unit gone from every host) in
 * between.
 *
 *   npm run bench:sync            (ROUNDS=3 UNITS=100 by default)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { percentile } from './stats.js';
import { commitAll, git } from '../support/git.js';
import { emptyCluster, timedFlotctl } from './support/sync-runs.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const UNITS = Number(process.env.UNITS ?? 100);

const run = timedFlotctl;
const empty = emptyCluster;

runClusterBenchmark('bench-sync', { hosts: 3, ttlSeconds: 10 }, async (cluster, registry) => {
  const env = cluster.flotctlEnv();
  const dir = await mkdtemp('/tmp/fl-bench-sync-repo-');
  try {
    const names = Array.from({ length: UNITS }, (_, i) => `bench-${i}.service`);
    for (const n of names) await writeFile(join(dir, n), `[Unit]\nDescription=${n}\n\n[Service]\nExecStart=/bin/sleep infinity\n`);
    git(dir, 'init', '-q', '-b', 'main');
    commitAll(dir, 'units');
    const source = dir.slice(1);
    const start: number[] = [];
    const sync: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['start', 'sync'] : ['sync', 'start'];
      for (const what of order) {
        await empty(registry, env, source);
        if (what === 'start') start.push(await run(env, ['start', ...names.map((n) => join(dir, n))]));
        else sync.push(await run(env, ['sync', dir]));
      }
      console.log(`round ${round + 1}: start ${start.at(-1)} ms, sync ${sync.at(-1)} ms`);
    }
    const s = percentile(start, 50);
    const y = percentile(sync, 50);
    console.log(`${UNITS} units on 3 hosts from an empty cluster, whole flotctl process, median of ${ROUNDS}:`);
    console.log(`  flotctl start ${UNITS} files: ${s.toFixed(0)} ms`);
    console.log(`  flotctl sync DIR:           ${y.toFixed(0)} ms (${(y / s).toFixed(2)}x start)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
