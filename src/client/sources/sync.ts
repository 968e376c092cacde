/**
 * flotctl sync: make the cluster match a directory. Read and check the tree
 * (all or nothing, before the store is asked anything), refuse a dirty tree
 * unless allowed, plan against one snapshot, write units, inventory and
 * provenance in fenced transactions (src/registry/sync-txns.ts), then hand
 * the changed units to the rollout and, with --prune, wait for destroyed
 * units to leave their hosts.
 */
import { revisionLabel } from '../../gitops/source-dir.js';
import { syncTxns } from '../../registry/sync-txns.js';
import { healthTraits } from '../../rollout/health.js';
import type { RolloutOptions } from '../../rollout/options.js';
import type { Rollout, RolloutEvent, RolloutReport, RolloutUnit } from '../../rollout/rollout.js';
import { FlotillaError, InvalidInputError } from '../../util/errors.js';
import type { OperationContext } from '../operations/context.js';
import { fail } from '../operations/errors.js';
import { waitForStatesGone } from '../operations/waits.js';
import { type DiffReport, diffReport } from './diff-report.js';
import { type PreparedSync, type SyncRequest, prepareSync, readSource, syncWrites } from './prepare.js';
import type { SourceClient } from './source-client.js';

export interface SyncOptions extends SyncRequest {
  allowDirty: boolean;
  /** Do not follow the rollout (print what was written and return). */
  noBlock: boolean;
  rollout: RolloutOptions;
}

export interface SyncResult {
  report: DiffReport;
  /** Transactions the writes took. */
  steps: number;
  rollout: RolloutReport | undefined;
  /** Destroyed units still on a host when the wait ended (empty when not waited). */
  destroyed: string[];
}

export interface SyncHooks {
  /** The plan, before anything is written. */
  planned?(report: DiffReport): void;
  /** The rollout is about to follow these units. */
  starting?(units: readonly string[]): Promise<void> | void;
  progress?(e: RolloutEvent): void;
  now?(): Date;
}

export async function syncSource(ctx: OperationContext, sources: SourceClient, rollout: Rollout, opts: SyncOptions, hooks: SyncHooks = {}): Promise<SyncResult> {
  const read = await readSource(opts.dir);
  refuseDirty(read.origin, opts.allowDirty);
  const prepared = await prepareSync(sources, opts, async () => read);
  const report = diffReport(prepared, opts.prune);
  hooks.planned?.(report);
  const at = (hooks.now?.() ?? new Date()).toISOString();
  const plans = syncTxns(sources.keys, syncWrites(prepared, at));
  await sources.applySync(plans);
  const result: SyncResult = { report, steps: plans.length, rollout: undefined, destroyed: [] };
  if (opts.noBlock) return result;
  const destroyed = prepared.plan.changes.flatMap((c) => (c.action === 'destroy' ? [c.name] : []));
  const units = rolloutUnits(prepared);
  await hooks.starting?.(units.map((u) => u.name));
  const [rolled] = await Promise.all([
    rollout.run(units, opts.rollout, (e) => hooks.progress?.(e)),
    waitForStatesGone(ctx, destroyed, Math.ceil(opts.rollout.healthyDeadlineMs / ctx.attemptMs), () => undefined).catch((err: unknown) => {
      // Timeouts only; an unreachable store is the command's failure.
      if (!(err instanceof FlotillaError) || err.exitCode !== 1) throw err;
      result.destroyed = destroyed;
    }),
  ]);
  result.rollout = rolled;
  return result;
}

/** What the rollout must carry to health: every unit the sync created, replaced or changed the state of. */
export function rolloutUnits(p: PreparedSync): RolloutUnit[] {
  const out: RolloutUnit[] = [];
  for (const c of p.plan.changes) {
    if (c.action === 'destroy' || c.action === 'adopt') continue;
    if (c.unit.kind === 'template') continue;
    if (c.action === 'create' && c.unit.desired === 'inactive') continue;
    const u: RolloutUnit = { name: c.unit.name, action: c.action, hash: c.unit.file.hash(), desired: c.unit.desired, traits: healthTraits(c.unit.name, c.unit.file) };
    if (c.action === 'replace') u.previousHash = c.current.hash;
    out.push(u);
  }
  return out;
}

function refuseDirty(origin: { dir: string; git: boolean; commit: string; dirty: boolean; changed: string[] }, allowDirty: boolean): void {
  if (!origin.dirty || allowDirty) return;
  if (!origin.git) throw new InvalidInputError(`${origin.dir} is not in a git work tree, so its units have no commit to record: commit it to git, or pass --allow-dirty to sync it as it is`);
  if (origin.commit === '') throw new InvalidInputError(`${origin.dir} is in a git repository without commits: commit the units, or pass --allow-dirty`);
  const shown = origin.changed.slice(0, 3).join(', ') + (origin.changed.length > 3 ? `, and ${origin.changed.length - 3} more` : '');
  throw new InvalidInputError(`${origin.dir} differs from its commit ${revisionLabel(origin.commit, false)} (${shown}): commit the changes, or pass --allow-dirty`);
}

/** The one-line outcome. */
export function syncSummary(r: SyncResult): string {
  const done = r.report.changes.length === 0 ? 'nothing to change' : `${r.report.changes.length} changed`;
  return `Synced source ${r.report.source} at ${revisionLabel(r.report.commit ?? '', r.report.dirty)}: ${done}, ${r.report.unchanged} unchanged`;
}

/** Throws when the rollout or the destroys did not finish: the sync is written, but did not take. */
export function throwIfIncomplete(r: SyncResult): void {
  const failed = r.rollout?.failed ?? [];
  const problems = failed.map((f) => `${f.unit}: ${f.reason}`);
  if (r.destroyed.length > 0) problems.push(`still on their hosts: ${r.destroyed.join(', ')}`);
  if (problems.length > 0) throw fail(`Sync of ${r.report.source} written, but not every unit is healthy: ${problems.join('; ')}`);
}
