/**
 * [X-Fleet] Replaces, seen from the replaced unit: R may not go where a unit
 * that replaces it runs. The replacer itself is never held back: it may land
 * on R's machine, and the round then moves R (see place.ts).
 */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

export const replacedFilter: Filter = (req, candidate, state) => {
  const here = state.unitsOn(candidate.machineId);
  let hit: string | undefined;
  for (const j of state.replaces.replacersOf(req.unit)) if (here.has(j) && (hit === undefined || j < hit)) hit = j;
  return hit === undefined ? undefined : reasons.replacedBy(hit);
};
