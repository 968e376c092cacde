/**
 * What `flotctl diff` shows, and `flotctl sync` prints before it applies:
 * one entry per unit that would change, with the unified diff of replaced
 * units, plus the unchanged count and the units kept for want of --prune.
 * The same object is the --json form.
 */
import type { DesiredState } from '../../registry/records.js';
import { unitDiff } from '../../gitops/content-diff.js';
import { revisionLabel } from '../../gitops/source-dir.js';
import { type Change, changeName } from '../../gitops/sync-plan.js';
import type { PreparedSync } from './prepare.js';

export type DiffAction = Change['action'];

export interface DiffEntry {
  unit: string;
  action: DiffAction;
  /** Desired state after the sync (absent for destroy). */
  desired?: DesiredState;
  /** Desired state in the cluster now (absent for create). */
  previousDesired?: DesiredState;
  hash?: string;
  previousHash?: string;
  /** The file of the tree it comes from (an instance: its template). */
  from?: string;
  /** Replace: the cluster's content is not what this source last wrote. */
  drifted?: boolean;
  /** Replace: unified diff lines, cluster -> tree. */
  diff?: string[];
}

export interface DiffReport {
  source: string;
  directory: string;
  commit: string | null;
  dirty: boolean;
  prune: boolean;
  changes: DiffEntry[];
  unchanged: number;
  /** Owned units not in the tree, kept because --prune was not given. */
  kept: string[];
  warnings: string[];
}

/** `contents`: stored unit files by hash, for the replaced units' diffs (absent = no diff lines). */
export function diffReport(p: PreparedSync, prune: boolean, contents?: ReadonlyMap<string, string>): DiffReport {
  const changes = p.plan.changes.map((c): DiffEntry => {
    const e: DiffEntry = { unit: changeName(c), action: c.action };
    if (c.action !== 'destroy') {
      e.desired = c.unit.desired;
      e.hash = c.unit.file.hash();
      e.from = c.unit.from;
    }
    if (c.action !== 'create') {
      e.previousDesired = c.current.desired;
      e.previousHash = c.current.hash;
    }
    if (c.action === 'replace') {
      e.drifted = c.drifted;
      const before = contents?.get(c.current.hash);
      if (contents) {
        e.diff = before === undefined
          ? [`(${c.unit.name}: the stored content ${c.current.hash.slice(0, 7)} is missing from the cluster store)`]
          : unitDiff(c.unit.name, before, c.unit.file.serialize(), { before: 'cluster', after: `${p.origin.dir.replace(/\/+$/, '')}/${c.unit.from}` });
      }
    }
    return e;
  });
  return {
    source: p.name,
    directory: p.origin.dir,
    commit: p.origin.commit === '' ? null : p.origin.commit,
    dirty: p.origin.dirty,
    prune,
    changes,
    unchanged: p.plan.unchanged.length,
    kept: p.plan.kept,
    warnings: p.tree.warnings,
  };
}

/** The hashes whose stored content a diff needs. */
export function contentsWanted(p: PreparedSync): string[] {
  return p.plan.changes.flatMap((c) => (c.action === 'replace' ? [c.current.hash] : []));
}

const MARK: Record<DiffAction, string> = { create: '+', replace: '~', state: '~', adopt: '=', destroy: '-' };

/** One line per change (diff lines under replaces when present), then kept units and the unchanged count. */
export function diffLines(r: DiffReport): string[] {
  const out: string[] = [`source ${r.source} at ${revisionLabel(r.commit ?? '', r.dirty)}`];
  for (const c of r.changes) {
    out.push(`${MARK[c.action]} ${changeLine(c)}`);
    if (c.diff) out.push(...c.diff);
  }
  for (const k of r.kept) out.push(`  keep ${k}: no longer in the tree (sync --prune would destroy it)`);
  out.push(r.changes.length === 0 ? `no changes, ${r.unchanged} unchanged` : `${countLine(r)}, ${r.unchanged} unchanged`);
  return out;
}

function changeLine(c: DiffEntry): string {
  const from = c.from !== undefined && c.from !== c.unit ? ` (from ${c.from})` : '';
  switch (c.action) {
    case 'create':
      return `create ${c.unit}${from}${c.desired === 'launched' ? '' : ` (${c.desired})`}`;
    case 'replace': {
      const state = c.previousDesired !== c.desired ? `, ${c.previousDesired} -> ${c.desired}` : '';
      return `replace ${c.unit}${from}${state}${c.drifted ? ' (changed in the cluster since the last sync)' : ''}`;
    }
    case 'state':
      return `state ${c.unit}: ${c.previousDesired} -> ${c.desired}`;
    case 'adopt':
      return `adopt ${c.unit}: owned by this source from now on, content unchanged`;
    case 'destroy':
      return `destroy ${c.unit}`;
  }
}

function countLine(r: DiffReport): string {
  const n = new Map<DiffAction, number>();
  for (const c of r.changes) n.set(c.action, (n.get(c.action) ?? 0) + 1);
  const words: Array<[DiffAction, string]> = [['create', 'to create'], ['replace', 'to replace'], ['state', 'to change state'], ['adopt', 'to adopt'], ['destroy', 'to destroy']];
  return words.filter(([a]) => n.has(a)).map(([a, w]) => `${n.get(a)} ${w}`).join(', ');
}
