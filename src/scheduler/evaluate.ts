/**
 * Re-evaluation of placements already made: which assignments no longer
 * satisfy the rules a placement pass would check (the unit's MachineID or
 * MachineMetadata changed, or the machine's metadata did; a conflicting unit
 * arrived; a unit that replaces it arrived; a peer left). Only rules the
 * engine can judge are re-checked: host-local facts belong to the host.
 *
 * Determinism: where two units break a rule together, the older assignment
 * stays (a Conflicts pair: the newcomer moves) and the replaced unit moves,
 * never its replacer. Followers leave with their peer. The engine deletes
 * the assignments returned; the next round places the units again.
 */
import type { UnitRequirements } from '../unit/requirements.js';
import { ConflictObjectors, firstConflict } from './filters/conflicts.js';
import { machineIdMismatch } from './filters/machine-id.js';
import { metadataMismatch } from './filters/metadata.js';
import { reasons } from './reasons.js';
import type { ReplaceGraph } from './replace-graph.js';

export interface Assigned {
  unit: string;
  machineId: string;
  /** Orders assignments by age (the engine uses the key's create revision). */
  since: number;
}

export interface Violation {
  unit: string;
  machineId: string;
  reason: string;
}

export interface EvaluationInput {
  assigned: readonly Assigned[];
  /** machineId -> effective metadata; a machine missing here has its metadata unchecked. */
  metadata: ReadonlyMap<string, Readonly<Record<string, string>>>;
  requirements: ReadonlyMap<string, UnitRequirements>;
  replaces: ReplaceGraph;
}

export function evaluatePlacements(input: EvaluationInput): Violation[] {
  const { metadata, requirements, replaces } = input;
  const aged = [...input.assigned].sort((a, b) => a.since - b.since || (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0) || (a.machineId < b.machineId ? -1 : 1));
  const out: Violation[] = [];
  const kept = new Map<string, Set<string>>(); // machine -> units still there
  const objectors = new Map<string, ConflictObjectors>(); // machine -> kept units that declare Conflicts
  const remaining: Assigned[] = [];
  const leaving = new Set<string>(); // `${machine}\0${unit}` evicted during this evaluation
  const evict = (a: Assigned, reason: string): void => {
    out.push({ unit: a.unit, machineId: a.machineId, reason });
    leaving.add(`${a.machineId}\0${a.unit}`);
    kept.get(a.machineId)?.delete(a.unit);
  };

  // 1. Rules about the unit and its machine alone, then Conflicts against
  //    older neighbours (so of a conflicting pair the newer one leaves).
  for (const a of aged) {
    const reqs = requirements.get(a.unit);
    const md = metadata.get(a.machineId);
    const own = reqs && (machineIdMismatch(a.machineId, reqs.machineId) ?? (md ? metadataMismatch(reqs.machineMetadata, md) : undefined));
    if (own !== undefined) {
      out.push({ unit: a.unit, machineId: a.machineId, reason: own });
      leaving.add(`${a.machineId}\0${a.unit}`);
      continue;
    }
    let here = kept.get(a.machineId);
    if (!here) kept.set(a.machineId, (here = new Set()));
    let objecting = objectors.get(a.machineId);
    if (!objecting) objectors.set(a.machineId, (objecting = new ConflictObjectors()));
    const rival = firstConflict(a.unit, reqs, here, objecting);
    if (rival !== undefined) {
      out.push({ unit: a.unit, machineId: a.machineId, reason: reasons.conflicts(rival) });
      leaving.add(`${a.machineId}\0${a.unit}`);
      continue;
    }
    here.add(a.unit);
    objecting.add(a.unit, reqs?.conflicts ?? []);
    remaining.push(a);
  }

  // 2. Replaces: the replaced unit leaves a machine its replacer is on. Removing
  //    units cannot create a conflict or a replacement, so one pass is enough.
  const afterReplace: Assigned[] = [];
  for (const a of remaining) {
    const here = kept.get(a.machineId)!;
    const replacer = [...replaces.replacersOf(a.unit)].filter((j) => here.has(j)).sort()[0];
    if (replacer !== undefined) evict(a, reasons.replacedBy(replacer));
    else afterReplace.push(a);
  }

  // 3. Peers, to a fixpoint: a follower whose peer just left leaves too.
  let pending = afterReplace;
  for (let changed = true; changed; ) {
    changed = false;
    const next: Assigned[] = [];
    for (const a of pending) {
      const here = kept.get(a.machineId)!;
      const missing = (requirements.get(a.unit)?.machineOf ?? []).find((p) => !here.has(p));
      if (missing === undefined) {
        next.push(a);
        continue;
      }
      evict(a, leaving.has(`${a.machineId}\0${missing}`) ? reasons.peerLeaving(missing) : reasons.peerMissing(missing));
      changed = true;
    }
    pending = next;
  }
  return out;
}
