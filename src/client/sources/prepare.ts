/**
 * What diff and sync share: read the directory (all or nothing), name the
 * source, take one snapshot of the cluster, check the source is this
 * directory's, and plan. Nothing here writes.
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
import type { SourceClient } from './source-client.js';

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
export async function readSource(dir: string): Promise<{ origin: SourceOrigin; tree: DesiredTree }> {
  const { origin, entries } = await readSourceDir(dir);
  return { origin, tree: parseTree(entries, dir) };
}

export async function prepareSync(client: SourceClient, req: SyncRequest, read = readSource): Promise<PreparedSync> {
  if (req.source !== undefined) validateSourceName(req.source);
  const { origin, tree } = await read(req.dir);
  const name = req.source ?? validateSourceName(origin.defaultName);
  const snapshot = await client.readSyncSnapshot(name);
  checkDefinition(name, snapshot, origin);
  const cluster = new Map<string, ClusterUnit>(snapshot.units);
  const plan = planSync({ source: name, units: tree.units, cluster, inventory: snapshot.inventory, prune: req.prune, allowEmpty: req.allowEmpty, adopt: req.adopt });
  return { name, origin, tree, snapshot, plan };
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
