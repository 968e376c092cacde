/**
 * The elected engine's pull duty: for each pull source whose interval has
 * passed, fetch its branch; when the commit differs from the one last
 * applied, read the tree (all or nothing), plan the sync with the planner
 * `flotctl sync` uses, and apply it with the source's prune rule.
 *
 * Safety, all in etcd, nothing in memory:
 * - EVERY transaction carries the caller's fence (the election key's create
 *   revision), so a deposed leader writes nothing;
 * - the applied commit is written in the same transaction as the status
 *   and, for a sync that fits one transaction, as the units (sync-txns.ts);
 *   each is conditioned on the status as read, so two engines racing on
 *   one commit apply it once: the second finds the status changed;
 * - running units whose content changes are replaced by a rollout (Nomad's
 *   default pacing unless told otherwise): the sync writes their content,
 *   ownership and the rollout record (with the status); the rollout driver
 *   writes each unit record when its turn comes;
 * - a fetch, tree or plan failure writes status.error (fenced, only when the
 *   message changes) and nothing else.
 * Pacing (when each source was last fetched) is the only memory, in
 * PullSchedule: losing it on a leader change costs one early fetch.
 */
import type { RolloutPacing, SourceRecord, SourceStatusRecord } from '../registry/records.js';
import { ROLLOUT_DEFAULTS } from '../rollout/options.js';
import { SyncRaceError, type SourceStore } from '../registry/source-store.js';
import { syncTxns } from '../registry/sync-txns.js';
import type { Condition } from '../registry/txn.js';
import { errorMessage } from '../util/errors.js';
import { parseTree } from './desired-state.js';
import type { FetchSource } from './pull.js';
import { type ClusterUnit, planSync } from './sync-plan.js';
import { rollsOut, writesOfPlan } from './sync-writes.js';

/** The interval of a source stored without one (flotctl source add's default). */
export const DEFAULT_PULL_INTERVAL_MS = 60_000;

export type PullStore = Pick<SourceStore, 'keys' | 'listSources' | 'readSyncSnapshot' | 'applySync' | 'getSourceStatus' | 'putSourceStatus'>;

/** The subset of the project's (pino) logger the duty uses. */
export interface PullLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** When each source was last fetched (ms); pacing only. */
export class PullSchedule {
  readonly lastFetch = new Map<string, number>();
}

export interface PullDutyDeps {
  store: PullStore;
  fetch: FetchSource;
  /** Conditions every write must also meet: the engine's election fence. */
  fence: () => readonly Condition[];
  log: PullLog;
  schedule: PullSchedule;
  /** Removes this host's fetch cache of URLs no pull source names (pruneFetchCache); absent in tests with an injected fetch. */
  pruneCache?: (keepUrls: readonly string[]) => Promise<string[]>;
  /** How running units with new content are replaced: a rollout with this pacing (default Nomad's), or false: at once. */
  rolling?: RolloutPacing | false;
}

export type PullOutcome =
  /** The fetched commit is the one applied. */
  | 'current'
  | 'applied'
  /** Fetch, tree or plan failed; status.error says why. */
  | 'failed'
  /** A write was refused (fence lost, or the source or its units changed meanwhile): retried next interval. */
  | 'refused';

export interface PullDutyResult {
  /** When a source is next due (undefined: no pull sources). */
  nextWakeAt: number | undefined;
  outcomes: Array<{ source: string; outcome: PullOutcome; commit?: string }>;
}

/** Which pull sources are due at `now`, and when the next one is (pure). */
export function dueSources(definitions: readonly SourceRecord[], lastFetch: ReadonlyMap<string, number>, now: number): { due: SourceRecord[]; nextWakeAt: number | undefined } {
  const due: SourceRecord[] = [];
  let nextWakeAt: number | undefined;
  for (const d of definitions) {
    if (d.mode !== 'pull' || d.url === undefined) continue;
    const interval = d.intervalMs ?? DEFAULT_PULL_INTERVAL_MS;
    const last = lastFetch.get(d.name);
    const at = last === undefined ? now : last + interval;
    if (at <= now) {
      due.push(d);
      nextWakeAt = Math.min(nextWakeAt ?? Infinity, now + interval);
    } else nextWakeAt = Math.min(nextWakeAt ?? Infinity, at);
  }
  return { due, nextWakeAt };
}

export async function runPullDuty(deps: PullDutyDeps, now: number): Promise<PullDutyResult> {
  const listing = await deps.store.listSources();
  const pulls = listing.definitions.filter((d) => d.mode === 'pull');
  for (const name of deps.schedule.lastFetch.keys()) if (!pulls.some((d) => d.name === name)) deps.schedule.lastFetch.delete(name);
  if (deps.pruneCache) {
    const removed = await deps.pruneCache(pulls.flatMap((d) => (d.url === undefined ? [] : [d.url])));
    if (removed.length > 0) deps.log.info({ removed: removed.length }, 'fetch cache of sources no longer followed removed');
  }
  const { due, nextWakeAt } = dueSources(pulls, deps.schedule.lastFetch, now);
  const outcomes: PullDutyResult['outcomes'] = [];
  for (const d of due) {
    deps.schedule.lastFetch.set(d.name, now);
    outcomes.push({ source: d.name, ...(await pullOne(deps, d, listing.statuses.get(d.name), now)) });
  }
  return { nextWakeAt, outcomes };
}

async function pullOne(deps: PullDutyDeps, d: SourceRecord, seen: SourceStatusRecord | undefined, now: number): Promise<{ outcome: PullOutcome; commit?: string }> {
  const at = new Date(now).toISOString();
  let fetched;
  try {
    fetched = await deps.fetch({ url: d.url as string, ...(d.branch !== undefined ? { branch: d.branch } : {}), path: d.path });
  } catch (err) {
    return fail(deps, d.name, errorMessage(err), at);
  }
  const { commit } = fetched;
  if (seen?.applied?.commit === commit && seen.applying === undefined) {
    if (seen.error !== undefined) await clearError(deps, d.name);
    return { outcome: 'current', commit };
  }
  let tree;
  try {
    tree = parseTree(fetched.entries, `${commit.slice(0, 12)}:${d.path}`);
  } catch (err) {
    return { ...(await fail(deps, d.name, `commit ${commit.slice(0, 12)} not applied: ${errorMessage(err)}`, at)), commit };
  }
  for (const w of tree.warnings) deps.log.warn({ source: d.name, commit }, w);
  const snapshot = await deps.store.readSyncSnapshot(d.name);
  const def = snapshot.definition;
  if (!def || def.unreadable || def.record.mode !== 'pull' || def.record.url !== d.url || def.record.path !== d.path || def.record.branch !== d.branch) {
    // Removed or redefined since the listing: the next pass sees the new definition.
    return { outcome: 'refused', commit };
  }
  // Another engine may have applied it since the listing; the status guard covers the rest of the race.
  const current = snapshot.status?.record;
  if (current?.applied?.commit === commit && current.applying === undefined) return { outcome: 'current', commit };
  let plan;
  try {
    plan = planSync({ source: d.name, units: tree.units, cluster: new Map<string, ClusterUnit>(snapshot.units), inventory: snapshot.inventory, prune: def.record.prune === true, allowEmpty: false, adopt: false,
      adoptHint: 'remove it from the repository (the next fetch retries)' });
  } catch (err) {
    return { ...(await fail(deps, d.name, `commit ${commit.slice(0, 12)} not applied: ${errorMessage(err)}`, at)), commit };
  }
  const rolling = deps.rolling === undefined ? { ...ROLLOUT_DEFAULTS } : deps.rolling;
  const writes = writesOfPlan({ source: d.name, plan, snapshot, definition: def.record, applied: { commit, dirty: false, at }, ...(rolling ? { rolling } : {}) });
  if (rolling && writes.rolled === undefined && plan.changes.some(rollsOut)) {
    deps.log.warn({ source: d.name, commit }, 'too many running units change at once for one rollout record: replacing them at once');
  }
  try {
    const txns = syncTxns(deps.store.keys, writes);
    await deps.store.applySync(txns, deps.fence());
    deps.log.info({ source: d.name, commit, changes: plan.changes.length, rolled: writes.rolled?.length ?? 0, unchanged: plan.unchanged.length, steps: txns.length }, 'pull source applied');
    return { outcome: 'applied', commit };
  } catch (err) {
    if (!(err instanceof SyncRaceError)) throw err;
    deps.log.warn({ source: d.name, commit }, `pull source not applied: ${err.message}`);
    return { outcome: 'refused', commit };
  }
}

/** Records the failure (fenced; unchanged message: no write). Nothing else is touched. */
async function fail(deps: PullDutyDeps, name: string, message: string, at: string): Promise<{ outcome: PullOutcome }> {
  const flat = message.replace(/\s*\n\s*/g, '; ');
  const line = flat.length <= 1024 ? flat : `${flat.slice(0, 1023)}…`;
  deps.log.warn({ source: name }, `pull source failed: ${line}`);
  const status = await deps.store.getSourceStatus(name);
  if (status?.record.error?.message === line || status?.unreadable) return { outcome: 'failed' };
  const ok = await deps.store.putSourceStatus({ ...(status?.record ?? { name }), error: { message: line, at } }, status?.revision ?? 0, deps.fence());
  return { outcome: ok ? 'failed' : 'refused' };
}

async function clearError(deps: PullDutyDeps, name: string): Promise<void> {
  const status = await deps.store.getSourceStatus(name);
  if (!status || status.unreadable || status.record.error === undefined) return;
  const { error: _e, ...rest } = status.record;
  await deps.store.putSourceStatus(rest, status.revision, deps.fence());
}
