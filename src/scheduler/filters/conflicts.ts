/**
 * [X-Fleet] Conflicts: U and E never share a machine if one of U's globs
 * matches E's name OR one of E's globs matches U's name. A one-way
 * declaration binds both units. Global units conflict like any other.
 */
import { globMatch } from '../../unit/glob.js';
import type { UnitRequirements } from '../../unit/requirements.js';
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

export function conflictBetween(a: string, aReqs: UnitRequirements | undefined, b: string, bReqs: UnitRequirements | undefined): boolean {
  if (a === b) return false;
  return (aReqs?.conflicts ?? []).some((p) => globMatch(p, b)) || (bReqs?.conflicts ?? []).some((p) => globMatch(p, a));
}

export const conflictsFilter: Filter = (req, candidate, state) => {
  const own = req.requirements;
  // Our globs need every neighbour; theirs only the neighbours that declare any.
  const neighbours = own.conflicts.length > 0 ? state.unitsOn(candidate.machineId) : state.conflictDeclarersOn(candidate.machineId);
  let hit: string | undefined;
  for (const e of neighbours) {
    if (conflictBetween(req.unit, own, e, state.requirementsOf(e)) && (hit === undefined || e < hit)) hit = e;
  }
  return hit === undefined ? undefined : reasons.conflicts(hit);
};
