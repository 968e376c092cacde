/**
 * Which content each host of a global unit must run while the unit rolls
 * host by host: the engine writes assignments from the unit record's hash,
 * except where a rollout record pins a host to the previous content. Pure:
 * the engine's assignment check (src/engine/assignments.ts) asks it.
 *
 * A host is pinned to `previousHash` while its phase is `pending` (not
 * moved yet) or `reverted` (moved back by --auto-revert), and only while the
 * record is running or failed: a failed rollout without auto-revert stops,
 * so hosts it never got to keep the old content until a newer sync replaces
 * the record. A unit reverted (--auto-revert) keeps its pins too: its unit
 * record goes back to the previous content in the same transaction, but the
 * engine watches rollouts and units separately, and if it saw the record
 * first, without pins it would write the new content (still in the unit
 * record it has) to the hosts never moved. Once the unit record is back the
 * pins name its own content: no effect. A unit the rollout left (done:
 * finished, or someone else changed it) has none, and a unit record
 * holding neither content of the rollout ends its pins (pinnedHash). Hosts not listed (joined
 * since) run the unit record's hash.
 */
import type { RolloutRecord } from '../registry/records.js';

/** A global unit's pinned hosts in one rollout: they run `previousHash` while the unit record holds either content of the rollout. */
export interface UnitPins {
  /** The content the rollout moves the unit to. */
  readonly rolloutHash: string;
  readonly previousHash: string;
  /** machine -> the hash it must run instead of the unit record's (previousHash). */
  readonly hosts: ReadonlyMap<string, string>;
  /** A failed rollout's record is written no more: its store revision. A unit record written after it is someone else's. */
  readonly frozenAt?: number;
}

/** A rollout record as stored: the revision of its last write, when known. */
export interface StoredRolloutRecord {
  value: RolloutRecord;
  modRevision?: number;
}

/** unit -> its pins. */
export type RolloutPins = ReadonlyMap<string, UnitPins>;

export function rolloutPins(records: Iterable<StoredRolloutRecord>): RolloutPins {
  const out = new Map<string, { rolloutHash: string; previousHash: string; hosts: Map<string, string>; frozenAt?: number }>();
  for (const { value: r, modRevision } of records) {
    if (r.state !== 'running' && r.state !== 'failed') continue;
    const frozenAt = r.state === 'failed' ? modRevision : undefined;
    for (const u of r.units) {
      if (!u.hosts || u.previousHash === undefined) continue;
      if (u.phase !== 'inflight' && u.phase !== 'failed' && u.phase !== 'reverted') continue;
      for (const h of u.hosts) {
        if (h.phase !== 'pending' && h.phase !== 'reverted') continue;
        let m = out.get(u.name);
        if (!m) out.set(u.name, (m = { rolloutHash: u.hash, previousHash: u.previousHash, hosts: new Map(), ...(frozenAt !== undefined ? { frozenAt } : {}) }));
        m.hosts.set(h.machineId, u.previousHash);
      }
    }
  }
  return out;
}

/**
 * The hash `machineId` must run for `unit` whose record holds `unitHash`:
 * its pin, or undefined (the unit record's hash). A pin holds only while
 * the unit record is at one of the rollout's two contents: once someone
 * gives the unit a third (a submit or start --replace after a failed
 * rollout), the rollout no longer governs it and every host runs the new one.
 * Nor after a failed rollout once anyone has written the unit record again
 * (`unitRevision` past the frozen record's): a submit or start --replace of
 * the same content the rollout failed on is a new try, on every host. (A
 * running rollout's driver sees such writes itself: it rewrites its record
 * every pass, so revisions say nothing there.)
 */
export function pinnedHash(pins: RolloutPins, unit: string, unitHash: string, unitRevision: number, machineId: string): string | undefined {
  const p = pins.get(unit);
  if (!p || (unitHash !== p.rolloutHash && unitHash !== p.previousHash)) return undefined;
  if (p.frozenAt !== undefined && unitRevision > p.frozenAt) return undefined;
  return p.hosts.get(machineId);
}
