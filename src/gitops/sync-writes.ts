/**
 * The writes that carry out a sync plan (pure): unit records with the
 * revision each was planned against, new contents, provenance for unchanged
 * units, released inventory entries. The one builder for whoever applies a
 * plan: the engine's pull duty and `flotctl sync` (client/sources/prepare.ts).
 */
import { type AppliedRevision, type RolloutPacing, type RolloutRecord, type SourceRecord, encode } from '../registry/records.js';
import type { SyncSnapshot } from '../registry/source-store.js';
import type { SyncWrites } from '../registry/sync-txns.js';
import type { Change, SyncPlan } from './sync-plan.js';

export interface PlannedSync {
  source: string;
  plan: SyncPlan;
  snapshot: SyncSnapshot;
  /** The definition to store when the snapshot has none. */
  definition: SourceRecord;
  applied: AppliedRevision;
  /**
   * Replace running units by a rollout with this pacing instead of at once:
   * the sync writes their content and ownership, and a rollout record the
   * engine's driver carries out (src/rollout/driver.ts).
   */
  rolling?: RolloutPacing;
}

/** Whether a change is carried out by a rollout: a launched unit that stays launched gets new content. */
export function rollsOut(c: Change): c is Extract<Change, { action: 'replace' }> {
  return c.action === 'replace' && c.unit.kind !== 'template' && c.current.desired === 'launched' && c.unit.desired === 'launched';
}

/**
 * A rollout record bigger than this is not written: etcd refuses requests
 * over 1.5 MiB by default, and the driver rewrites the record every pass.
 * Such a sync (thousands of running units changed at once) replaces at once.
 */
export const ROLLOUT_RECORD_MAX_BYTES = 512 * 1024;

/** Whether the rollout record of these units fits (names, hashes and phase fields, generously). */
export function rolloutFits(units: readonly string[]): boolean {
  return units.reduce((n, name) => n + name.length + 200, 200) <= ROLLOUT_RECORD_MAX_BYTES;
}

/**
 * Global units the older running rollout is moving host by host, that this
 * sync leaves as they are: their unit record already holds the content the
 * rollout moves them to, and their hosts not reached yet are pinned to the
 * previous one (src/rollout/pins.ts). Ending that rollout would end the
 * pins, and every such host would get the new content at once; the new
 * record carries them on instead, as they are.
 */
function unfinishedHostRolls(running: RolloutRecord | undefined, p: PlannedSync): RolloutRecord['units'] {
  if (!running) return [];
  const touched = new Set(p.plan.changes.map((c) => (c.action === 'destroy' ? c.name : c.unit.name)));
  return running.units.filter((u) =>
    u.phase === 'inflight' && u.hosts !== undefined && u.hosts.some((h) => h.phase === 'pending' || h.phase === 'inflight') &&
    !touched.has(u.name) && p.snapshot.units.get(u.name)?.hash === u.hash);
}

export function writesOfPlan(p: PlannedSync): SyncWrites {
  const rolling = p.rolling && rolloutFits(p.plan.changes.filter(rollsOut).map((c) => c.unit.name)) ? p.rolling : undefined;
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
  const rolled: RolloutRecord['units'] = [];
  for (const c of p.plan.changes) {
    if (rolling && rollsOut(c)) {
      const hash = c.unit.file.hash();
      (w.rolled ??= []).push({ name: c.unit.name, hash, desired: c.unit.desired, expect: c.current.revision, ...(present.has(hash) ? {} : { content: c.unit.file.serialize() }) });
      rolled.push({ name: c.unit.name, hash, previousHash: c.current.hash, phase: 'pending' });
      continue;
    }
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
  const running = p.snapshot.rollout?.record?.state === 'running' ? p.snapshot.rollout.record : undefined;
  const carried = unfinishedHostRolls(running, p);
  if ((rolling && rolled.length > 0) || carried.length > 0) {
    const opts = rolling ?? (running as RolloutRecord).opts;
    const record: RolloutRecord = { source: p.source, commit: p.applied.commit, opts, state: 'running', units: [...rolled, ...carried] };
    w.rollout = { value: encode(record), revision: p.snapshot.rollout?.revision ?? 0 };
  } else if (running) {
    // This sync's plan covers every unit, so the older rollout's units still to do must not go on
    // (they would carry content the new commit may no longer have): it ends here, with nothing to roll.
    const record: RolloutRecord = { source: p.source, commit: p.applied.commit, opts: running.opts, state: 'done', units: [] };
    w.rollout = { value: encode(record), revision: p.snapshot.rollout?.revision ?? 0 };
  }
  for (const u of p.plan.refreshed) {
    w.refresh.push({ source: p.source, unit: u.name, hash: u.file.hash(), commit: p.applied.commit, dirty: p.applied.dirty, at: p.applied.at });
  }
  return w;
}
