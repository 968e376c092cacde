/**
 * What a sync of one source would do, decided from the tree and the cluster
 * alone (pure): which units to create, replace, change state of, destroy;
 * which are unchanged; and which the source may not touch.
 *
 * Ownership comes only from the inventory (P/inventory/<source>/<unit>):
 * - a unit of the tree that does not exist is created, and owned;
 * - one this source owns is replaced or has its state changed as needed;
 * - one another source owns is a conflict naming both sources;
 * - one no source owns (made by hand) is a conflict too, unless --adopt;
 * - with --prune, a unit this source owns that the tree lacks is destroyed;
 *   without it, it is kept (and still owned);
 * - an owned unit that no longer exists anywhere is dropped from the inventory.
 * A prune that would leave the source owning nothing refuses without
 * --allow-empty (an empty or wrong directory must not wipe a source).
 */
import type { DesiredState, InventoryRecord } from '../registry/records.js';
import { InvalidInputError } from '../util/errors.js';
import type { DesiredUnit } from './desired-state.js';

/** A unit record as the cluster has it, with the revision writes are conditioned on. */
export interface ClusterUnit {
  name: string;
  hash: string;
  desired: DesiredState;
  revision: number;
}

export interface PlanInput {
  source: string;
  units: readonly DesiredUnit[];
  cluster: ReadonlyMap<string, ClusterUnit>;
  /** Every source's inventory entries. */
  inventory: readonly InventoryRecord[];
  prune: boolean;
  allowEmpty: boolean;
  adopt: boolean;
  /** How the user lets the source own a unit made by hand, for the error (default: the sync flag). */
  adoptHint?: string;
}

export type Change =
  | { action: 'create'; unit: DesiredUnit }
  /** `drifted`: the cluster's content is not what this source last wrote (changed by hand since). */
  | { action: 'replace'; unit: DesiredUnit; current: ClusterUnit; drifted: boolean; adopted: boolean }
  | { action: 'state'; unit: DesiredUnit; current: ClusterUnit; adopted: boolean }
  /** An existing unit no source owned, taken over as it is (--adopt). */
  | { action: 'adopt'; unit: DesiredUnit; current: ClusterUnit }
  | { action: 'destroy'; name: string; current: ClusterUnit };

export interface SyncPlan {
  source: string;
  /** Sorted by unit name. */
  changes: Change[];
  unchanged: string[];
  /** Owned units the tree no longer has, kept because --prune was not given. */
  kept: string[];
  /** Inventory entries of units gone from both the tree and the cluster. */
  released: string[];
  /** Unchanged owned units whose inventory entry is stale (hash differs): provenance to refresh. */
  refreshed: DesiredUnit[];
}

/** A sync that must not happen; every reason, one line each. */
export class PlanError extends InvalidInputError {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
  }
}

export function planSync(input: PlanInput): SyncPlan {
  const { source } = input;
  const owners = new Map<string, InventoryRecord>();
  const mine = new Map<string, InventoryRecord>();
  for (const e of input.inventory) {
    if (e.source === source) mine.set(e.unit, e);
    else if (!owners.has(e.unit) || e.source < (owners.get(e.unit) as InventoryRecord).source) owners.set(e.unit, e);
  }
  const plan: SyncPlan = { source, changes: [], unchanged: [], kept: [], released: [], refreshed: [] };
  const errors: string[] = [];
  const inTree = new Set<string>();
  for (const unit of input.units) {
    inTree.add(unit.name);
    const current = input.cluster.get(unit.name);
    const own = mine.get(unit.name);
    const other = owners.get(unit.name);
    if (!own && other) {
      errors.push(`${unit.name} belongs to source ${other.source}, not to ${source}: remove it from one of them (a unit has one owner)`);
      continue;
    }
    if (!current) {
      plan.changes.push({ action: 'create', unit });
      continue;
    }
    const adopted = !own;
    if (adopted && !input.adopt) {
      errors.push(`${unit.name} exists in the cluster and no source owns it (made by hand?): destroy it, or ${input.adoptHint ?? `pass --adopt to let ${source} own it`}`);
      continue;
    }
    const hash = unit.file.hash();
    if (current.hash !== hash) {
      plan.changes.push({ action: 'replace', unit, current, drifted: own !== undefined && own.hash !== current.hash, adopted });
    } else if (current.desired !== unit.desired) {
      plan.changes.push({ action: 'state', unit, current, adopted });
    } else if (adopted) {
      plan.changes.push({ action: 'adopt', unit, current });
    } else {
      plan.unchanged.push(unit.name);
      if (own && own.hash !== hash) plan.refreshed.push(unit);
    }
  }
  let destroys = 0;
  for (const [name] of mine) {
    if (inTree.has(name)) continue;
    const current = input.cluster.get(name);
    if (!current) plan.released.push(name);
    else if (input.prune) {
      plan.changes.push({ action: 'destroy', name, current });
      destroys++;
    } else plan.kept.push(name);
  }
  if (input.prune && input.units.length === 0 && destroys > 0 && !input.allowEmpty) {
    errors.push(`the tree has no units: this sync would destroy all ${destroys} units of source ${source}; pass --allow-empty if that is what you want`);
  }
  if (errors.length > 0) throw new PlanError(errors);
  plan.changes.sort((a, b) => cmp(changeName(a), changeName(b)));
  for (const list of [plan.unchanged, plan.kept, plan.released]) list.sort(cmp);
  return plan;
}

export function changeName(c: Change): string {
  return c.action === 'destroy' ? c.name : c.unit.name;
}

/** Whether applying the plan changes the cluster (diff's exit code 1). */
export function planChangesCluster(plan: SyncPlan): boolean {
  return plan.changes.length > 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
