/**
 * What diff and sync share: read the directory (all or nothing) into a
 * manifest (client side), then, where the store is (StoreSourceClient:
 * flotctl's etcd driver or flotillad), parse it again, name the source, take
 * one snapshot of the cluster, check the source is this directory's, and
 * plan. Nothing here writes.
 */
import type { RolloutPacing, SourceRecord } from '../../registry/records.js';
import type { SyncSnapshot } from '../../registry/source-store.js';
import type { SyncWrites } from '../../registry/sync-txns.js';
import { type DesiredTree, parseTree } from '../../gitops/desired-state.js';
import { type SourceOrigin, readSourceDir } from '../../gitops/source-dir.js';
import { validateSourceName } from '../../gitops/source-name.js';
import { type ClusterUnit, type SyncPlan, planSync } from '../../gitops/sync-plan.js';
import { writesOfPlan } from '../../gitops/sync-writes.js';
import { InvalidInputError } from '../../util/errors.js';
import type { TreeEntry } from '../../gitops/tree.js';
import type { SyncManifest } from './source-client.js';

export interface SyncRequest {
  dir: string;
  /** --source NAME; the directory's default name otherwise. */
  source?: string;
  prune: boolean;
  allowEmpty: boolean;
  adopt: boolean;
}

export interface PreparedSync {
  name: string;
  origin: SourceOrigin;
  tree: DesiredTree;
  snapshot: SyncSnapshot;
  plan: SyncPlan;
}

/** The tree and its origin only: no store access, so bad input fails the same with etcd down. */
export async function readSource(dir: string): Promise<{ origin: SourceOrigin; tree: DesiredTree; entries: TreeEntry[] }> {
  const { origin, entries } = await readSourceDir(dir);
  return { origin, entries, tree: parseTree(entries, dir) };
}

/** The manifest diff and sync send, read and checked here (the planner checks it again). */
export async function readManifest(req: SyncRequest, read = readSource): Promise<{ manifest: SyncManifest; origin: SourceOrigin }> {
  if (req.source !== undefined) validateSourceName(req.source);
  const { origin, entries } = await read(req.dir);
  if (req.source === undefined) validateSourceName(origin.defaultName);
  const manifest: SyncManifest = { origin, entries, prune: req.prune, allowEmpty: req.allowEmpty, adopt: req.adopt, ...(req.source !== undefined ? { source: req.source } : {}) };
  return { manifest, origin };
}

/** Store side: the manifest's tree parsed by the one parser, planned against one snapshot. */
export async function prepareManifest(readSnapshot: (source: string) => Promise<SyncSnapshot>, m: SyncManifest): Promise<PreparedSync> {
  const name = validateSourceName(m.source ?? m.origin.defaultName);
  const tree = parseTree(m.entries, m.origin.dir);
  const snapshot = await readSnapshot(name);
  checkDefinition(name, snapshot, m.origin);
  const cluster = new Map<string, ClusterUnit>(snapshot.units);
  const plan = planSync({ source: name, units: tree.units, cluster, inventory: snapshot.inventory, prune: m.prune, allowEmpty: m.allowEmpty, adopt: m.adopt });
  return { name, origin: m.origin, tree, snapshot, plan };
}

/**
 * A source is one directory of one repository: syncing another directory
 * under its name would prune the first one's units. Pull sources belong to
 * the engine.
 */
export function checkDefinition(name: string, snapshot: SyncSnapshot, origin: SourceOrigin): void {
  const d = snapshot.definition;
  if (!d) return;
  if (d.unreadable) throw new InvalidInputError(`source ${name}: its definition in the cluster store cannot be read: remove it with flotctl source remove ${name}`);
  if (d.record.mode === 'pull') {
    throw new InvalidInputError(`source ${name} is followed by the cluster from ${d.record.url ?? d.record.repository} (flotctl source add): sync this directory under another --source, or flotctl source remove ${name} first`);
  }
  if (d.record.repository !== origin.repository || d.record.path !== origin.path) {
    const was = where(d.record.repository, d.record.path);
    throw new InvalidInputError(`source ${name} is synced from ${was}, not from ${where(origin.repository, origin.path)} (${origin.dir}): pass --source NAME to sync this directory as another source`);
  }
}

function where(repository: string, path: string): string {
  return path === '' ? repository : `${repository}:${path}`;
}

/**
 * The writes that carry out a plan: the same builder the engine's pull duty
 * uses (src/gitops/sync-writes.ts). With `rolling`, running units that get
 * new content are left to a rollout record written with the status.
 */
export function syncWrites(p: PreparedSync, at: string, rolling?: RolloutPacing): SyncWrites {
  const definition: SourceRecord = { name: p.name, mode: 'push', repository: p.origin.repository, path: p.origin.path, createdAt: at };
  return writesOfPlan({
    source: p.name,
    plan: p.plan,
    snapshot: p.snapshot,
    definition,
    applied: { commit: p.origin.commit, dirty: p.origin.dirty, at },
    ...(rolling ? { rolling } : {}),
  });
}
