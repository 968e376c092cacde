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
 * finished, or someone else changed it) has none. Hosts not listed (joined
 * since) run the unit record's hash.
 */
import type { RolloutRecord } from '../registry/records.js';

/** unit -> machine -> the hash that machine must run instead of the unit record's. */
export type RolloutPins = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function rolloutPins(records: Iterable<RolloutRecord>): RolloutPins {
  const out = new Map<string, Map<string, string>>();
  for (const r of records) {
    if (r.state !== 'running' && r.state !== 'failed') continue;
    for (const u of r.units) {
      if (!u.hosts || u.previousHash === undefined) continue;
      if (u.phase !== 'inflight' && u.phase !== 'failed' && u.phase !== 'reverted') continue;
      for (const h of u.hosts) {
        if (h.phase !== 'pending' && h.phase !== 'reverted') continue;
        let m = out.get(u.name);
        if (!m) out.set(u.name, (m = new Map()));
        m.set(h.machineId, u.previousHash);
      }
    }
  }
  return out;
}
