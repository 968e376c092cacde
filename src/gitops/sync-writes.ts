/**
 * The writes that carry out a sync plan (pure): unit records with the
 * revision each was planned against, new contents, provenance for unchanged
 * units, released inventory entries. Shared by whoever applies a plan: the
 * pull duty here; `flotctl sync` builds the same shape (client/sources).
 */
import type { AppliedRevision, SourceRecord } from '../registry/records.js';
import type { SyncSnapshot } from '../registry/source-store.js';
import type { SyncWrites } from '../registry/sync-txns.js';
import type { SyncPlan } from './sync-plan.js';

export interface PlannedSync {
  source: string;
  plan: SyncPlan;
  snapshot: SyncSnapshot;
  /** The definition to store when the snapshot has none. */
  definition: SourceRecord;
  applied: AppliedRevision;
}

export function writesOfPlan(p: PlannedSync): SyncWrites {
  const present = new Set([...p.snapshot.units.values()].map((u) => u.hash));
  const { error: _cleared, ...status } = p.snapshot.status?.record ?? { name: p.source };
  const w: SyncWrites = {
    source: p.source,
    definition: { record: p.snapshot.definition?.record ?? p.definition, revision: p.snapshot.definition?.revision ?? 0, changed: false },
    // A sync that applies clears the last error.
    status: { record: p.snapshot.status ? status : undefined, revision: p.snapshot.status?.revision ?? 0 },
    applied: p.applied,
    puts: [],
    deletes: [],
    refresh: [],
    release: [...p.plan.released],
  };
  for (const c of p.plan.changes) {
    if (c.action === 'destroy') {
      w.deletes.push({ name: c.name, expect: c.current.revision });
      continue;
    }
    const hash = c.unit.file.hash();
    w.puts.push({
      name: c.unit.name,
      hash,
      desired: c.unit.desired,
      expect: c.action === 'create' ? 0 : c.current.revision,
      // Every put of a new content carries it; the transactions write it once (sync-txns.ts).
      ...(present.has(hash) ? {} : { content: c.unit.file.serialize() }),
    });
  }
  for (const u of p.plan.refreshed) {
    w.refresh.push({ source: p.source, unit: u.name, hash: u.file.hash(), commit: p.applied.commit, dirty: p.applied.dirty, at: p.applied.at });
  }
  return w;
}
