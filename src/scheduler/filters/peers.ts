/**
 * [X-Fleet] MachineOf: every peer must already be on the candidate (placed
 * before, or earlier in this pass: requests are ordered so peers come
 * first). A global peer counts where it runs.
 */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

export const peersFilter: Filter = (req, candidate, state) => {
  const here = state.unitsOn(candidate.machineId);
  const missing = req.requirements.machineOf.find((p) => !here.has(p));
  return missing === undefined ? undefined : reasons.peerMissing(missing);
};
