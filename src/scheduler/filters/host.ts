/** What the host itself said in its bid, and the one rule every unit shares. */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

/** The host accepted the unit (its MachineMetadata, systemd Conditions and files checked out there). */
export const hostAccepted: Filter = (req, candidate) => {
  if (candidate.accepts.has(req.unit)) return undefined;
  return candidate.refuses.get(req.unit) ?? reasons.noBid;
};

/** A unit is never placed twice on one machine (globals are re-offered to hosts that have them). */
export const notAlreadyThere: Filter = (req, candidate, state) =>
  state.unitsOn(candidate.machineId).has(req.unit) ? reasons.alreadyThere : undefined;
