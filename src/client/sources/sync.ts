/**
 * flotctl sync: make the cluster match a directory. Read and check the tree
 * (all or nothing, before the store is asked anything), refuse a dirty tree
 * unless allowed, plan against one snapshot, write units, inventory and
 * provenance in fenced transactions (src/registry/sync-txns.ts), then follow
 * the changes to health and, with --prune, wait for destroyed units to leave
 * their hosts. Running units that get new content are not written at once:
 * the sync writes a rollout record with its status, the engine replaces them
 * max-parallel at a time (src/rollout/driver.ts), and this follows the
 * record (src/rollout/follow-record.ts). Everything else (new units, state
 * changes) is applied at once and followed from the client (`rollout`).
 */
import { revisionLabel } from '../../gitops/source-dir.js';
import { ROLLOUT_POLL_MS } from '../../rollout/driver.js';
import { followRecord } from '../../rollout/follow-record.js';
import { healthTraits } from '../../rollout/health.js';
import type { RolloutOptions } from '../../rollout/options.js';
import type { Rollout, RolloutEvent, RolloutReport, RolloutUnit } from '../../rollout/rollout.js';
import { InvalidInputError } from '../../util/errors.js';
import type { OperationContext } from '../operations/context.js';
import { fail } from '../operations/errors.js';
import { WaitTimeoutError } from '../operations/waiter.js';
import { waitForStatesGone } from '../operations/waits.js';
import type { DiffReport } from './diff-report.js';
import { type PreparedSync, type SyncRequest, readManifest } from './prepare.js';
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
  /** Units left to the engine's rollout (replaced max-parallel at a time). */
  rolled: string[];
  /** Destroyed units still on a host when the wait ended (empty when not waited). */
  destroyed: string[];
}

export interface SyncHooks {
  /** The plan, before anything is written. */
  planned?(report: DiffReport): void;
  /**
   * Following starts: `units` are carried to health at once, `queued` wait
   * their turn in the engine's rollout (each starts with a 'waiting' event).
   */
  starting?(units: readonly string[], queued: readonly string[]): Promise<void> | void;
  progress?(e: RolloutEvent): void;
  /** How often to read the rollout record (default ROLLOUT_POLL_MS). */
  pollMs?: number;
}

export async function syncSource(ctx: OperationContext, sources: SourceClient, rollout: Rollout, opts: SyncOptions, hooks: SyncHooks = {}): Promise<SyncResult> {
  const { manifest, origin } = await readManifest(opts);
  refuseDirty(origin, opts.allowDirty);
  // Planned and written in one call where the store is (StoreSourceClient): the plan is shown once written.
  const applied = await sources.sync(manifest, opts.rollout);
  const { report, rolled, units, destroyed } = applied;
  hooks.planned?.(report);
  const result: SyncResult = { report, steps: applied.steps, rolled, rollout: undefined, destroyed: [] };
  if (opts.noBlock) return result;
  await hooks.starting?.(units.map((u) => u.name), rolled);
  const progress = (e: RolloutEvent): void => hooks.progress?.(e);
  const [atOnce, engine] = await Promise.all([
    rollout.run(units, opts.rollout, progress),
    rolled.length === 0
      ? undefined
      : followRecord(() => sources.rolloutRecord(report.source), progress, {
        commit: origin.commit,
        pollMs: hooks.pollMs ?? ROLLOUT_POLL_MS,
        timeoutMs: followLimitMs(rolled.length, opts.rollout),
      }),
    waitForStatesGone(ctx, destroyed, Math.ceil(opts.rollout.healthyDeadlineMs / ctx.attemptMs), () => undefined).catch((err: unknown) => {
      // Timeouts only; an unreachable store is the command's failure.
      if (!(err instanceof WaitTimeoutError)) throw err;
      result.destroyed = destroyed;
    }),
  ]);
  result.rollout = engine ? mergeReports(atOnce, engine) : atOnce;
  return result;
}

/**
 * How long to follow the engine's rollout before leaving it to the engine:
 * each batch of max-parallel units ends (healthy for min-healthy-time, or
 * failed at the deadline) within min-healthy-time + healthy-deadline; one
 * more deadline of slack covers a leader change.
 */
export function followLimitMs(units: number, o: RolloutOptions): number {
  return Math.ceil(units / o.maxParallel) * (o.minHealthyMs + o.healthyDeadlineMs) + o.healthyDeadlineMs;
}

function mergeReports(a: RolloutReport, b: RolloutReport): RolloutReport {
  const byUnit = <T>(xs: T[], key: (x: T) => string): T[] => xs.sort((x, y) => (key(x) < key(y) ? -1 : 1));
  return {
    healthy: byUnit([...a.healthy, ...b.healthy], (x) => x),
    failed: byUnit([...a.failed, ...b.failed], (x) => x.unit),
    notStarted: byUnit([...a.notStarted, ...b.notStarted], (x) => x),
    ...(b.stopped !== undefined ? { stopped: b.stopped } : {}),
  };
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
  // Not followed (--no-block): say where the rollout's progress is.
  const rolling = r.rollout === undefined && r.rolled.length > 0 ? `; the engine rolls out ${r.rolled.length} (see flotctl sources)` : '';
  return `Synced source ${r.report.source} at ${revisionLabel(r.report.commit ?? '', r.report.dirty)}: ${done}, ${r.report.unchanged} unchanged${rolling}`;
}

/**
 * Throws when the rollout or the destroys did not finish: the sync is
 * written, but did not take. One line; a stopped rollout names its unit
 * (and says when the previous content was put back).
 */
export function throwIfIncomplete(r: SyncResult): void {
  const rollout = r.rollout;
  const source = r.report.source;
  if (rollout?.stopped !== undefined) {
    const others = (rollout.failed ?? []).filter((f) => !rollout.stopped?.startsWith(`${f.unit}:`) && !f.reason.endsWith('previous content put back'));
    const more = others.length > 0 ? `; also ${others.map((f) => `${f.unit}: ${f.reason}`).join('; ')}` : '';
    throw fail(`Sync of ${source} written, but its rollout stopped: ${rollout.stopped}${more}`);
  }
  const problems = (rollout?.failed ?? []).map((f) => `${f.unit}: ${f.reason}`);
  if (r.destroyed.length > 0) problems.push(`still on their hosts: ${r.destroyed.join(', ')}`);
  if (problems.length > 0) throw fail(`Sync of ${source} written, but not every unit is healthy: ${problems.join('; ')}`);
  const left = rollout?.notStarted ?? [];
  if (left.length > 0) throw fail(`Sync of ${source} written; its rollout still has ${left.length} unit(s) to do (${left.slice(0, 3).join(', ')}${left.length > 3 ? ', ...' : ''}): the engine carries on, see flotctl sources`);
}
