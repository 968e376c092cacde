/** [X-Fleet] MachineID: the unit runs on that machine only. */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

/**
 * fleet's MachineState.MatchID: the full id or its 8-character short form
 * (fleet's documentation says full only; fleet accepted both, and so do we).
 */
export function matchesMachineId(machineId: string, wanted: string): boolean {
  return machineId === wanted || (machineId.length > 8 && machineId.slice(0, 8) === wanted);
}

export function machineIdMismatch(machineId: string, wanted: string | undefined): string | undefined {
  if (wanted === undefined || wanted === '' || matchesMachineId(machineId, wanted)) return undefined;
  return reasons.machineId(wanted);
}

export const machineIdFilter: Filter = (req, candidate) => machineIdMismatch(candidate.machineId, req.requirements.machineId);
