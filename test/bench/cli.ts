/**
 * Benchmark: flotctl as a whole process, against a bare `node -e 0` measured
 * in the same run, on a real 3-host cluster holding UNITS units (issue 12:
 * list-units and list-machines <= 2x, version and help <= 1.3x).
 *
 * Rows: the bundled flotctl users run (package.json bin, dist/bin) and, for
 * comparison, the unbundled compiled code (dist/src/cli/main.js); one row per
 * driver the CLI offers. Runs are interleaved (one of each command per
 * pass), so a noisy moment costs every row alike; figures are medians.
 *
 *   npm run bench:cli             (PASSES=15 UNITS=100 by default)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { percentile } from './stats.js';

const PASSES = Number(process.env.PASSES ?? 15);
const UNITS = Number(process.env.UNITS ?? 100);
const BUNDLED = fileURLToPath(new URL('../../bin/flotctl.js', import.meta.url));
const COMPILED = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Wall time of one process from spawn to exit; a failure ends the benchmark. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n')[0]}`));
    });
  });
}

interface Row {
  label: string;
  args: string[];
  env: Record<string, string>;
  /** The target, as a multiple of `node -e 0`. */
  target?: number;
  samples: number[];
}

runClusterBenchmark('bench-cli', { hosts: 3, ttlSeconds: 10 }, async (cluster, registry) => {
  const env = cluster.flotctlEnv();
  // Units stored directly: this measures reading them, not placing them.
  const names = Array.from({ length: UNITS }, (_, i) => `bench-cli-${String(i).padStart(3, '0')}.service`);
  for (const name of names) {
    const file = UnitFile.parse(`[Unit]\nDescription=${name}\n\n[Service]\nExecStart=/bin/sleep infinity\n`);
    await registry.putUnit({ name, hash: file.hash(), desired: 'launched' }, file.serialize());
  }
  await waitFor(`${UNITS} units active`, async () => ((await registry.listStates()).filter((s) => s.active === 'active').length >= UNITS ? true : undefined), {
    timeoutMs: 180_000,
    intervalMs: 250,
  });

  const rows: Row[] = [{ label: 'node -e 0', args: ['-e', '0'], env: {}, samples: [] }];
  const drivers: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'etcd', env: { ...env, FLOTCTL_DRIVER: 'etcd' } },
    { name: 'api', env: { ...env, FLOTCTL_DRIVER: 'api', FLOTCTL_ENDPOINT: `unix://${cluster.apiSocket(0) as string}` } },
  ];
  // The targets are the bundled flotctl's (what users run), the lists' through the API driver;
  // the etcd driver and the unbundled compiled code are printed beside them for comparison.
  for (const [program, file] of [['bundled', BUNDLED], ['compiled', COMPILED]] as const) {
    const ours = program === 'bundled';
    rows.push({ label: `${program} version`, args: [file, 'version'], env, ...(ours ? { target: 1.3 } : {}), samples: [] });
    rows.push({ label: `${program} help`, args: [file, 'help'], env, ...(ours ? { target: 1.3 } : {}), samples: [] });
    for (const d of drivers) {
      const target = ours && d.name === 'api' ? { target: 2 } : {};
      rows.push({ label: `${program} list-units (${d.name})`, args: [file, 'list-units'], env: d.env, ...target, samples: [] });
      rows.push({ label: `${program} list-machines (${d.name})`, args: [file, 'list-machines'], env: d.env, ...target, samples: [] });
    }
  }
  // One warm-up pass: the first runs pay for the page cache.
  for (const r of rows) await timed(r.args, r.env);
  for (let pass = 0; pass < PASSES; pass++) for (const r of rows) r.samples.push(await timed(r.args, r.env));

  const base = percentile(rows[0]?.samples ?? [], 50);
  console.log(`whole-process wall time, median of ${PASSES}, ${UNITS} units on 3 hosts:`);
  for (const r of rows) {
    const p50 = percentile(r.samples, 50);
    const ratio = p50 / base;
    const verdict = r.target === undefined ? '' : ratio <= r.target ? `  (target <= ${r.target}x: met)` : `  (target <= ${r.target}x: MISSED)`;
    console.log(`  ${r.label.padEnd(32)} ${p50.toFixed(0).padStart(5)} ms  ${ratio.toFixed(2)}x${verdict}`);
  }
});
