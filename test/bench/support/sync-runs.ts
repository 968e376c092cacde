/** What the sync and rollout benchmarks share: a flotctl run that must succeed, and an emptied cluster between runs. */
import type { Registry } from '../../../src/registry/registry.js';
import { waitFor } from '../../../src/util/deadline.js';
import { flotctl } from '../../cli/support/run.js';

/** One whole flotctl process; its wall time in ms, or the first line of its error. */
export async function timedFlotctl(env: Record<string, string>, args: string[]): Promise<number> {
  const r = await flotctl(args, { env: { ...env, NO_COLOR: '1' }, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`flotctl ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr.trim().split('\n')[0]}`);
  return r.ms;
}

/** Forget the source (pruning its units), destroy what is left, and wait until no host runs anything. */
export async function emptyCluster(registry: Registry, env: Record<string, string>, source: string): Promise<void> {
  const sources = await flotctl(['sources', '--no-legend', '--fields', 'name'], { env });
  if (sources.stdout.includes(source)) await timedFlotctl(env, ['source', 'remove', '--prune', source]);
  const left = (await registry.listUnits()).map((u) => u.name);
  if (left.length > 0) await timedFlotctl(env, ['destroy', ...left]);
  await waitFor('every unit gone from every host', async () => ((await registry.listStates()).length === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 200 });
}
