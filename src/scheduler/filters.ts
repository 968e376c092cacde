/**
 * Feasibility filters, one policy each (kube-scheduler style). A unit goes
 * only to candidates every filter lets through. Host-local facts (metadata,
 * systemd Conditions) were already checked by the agent in its bid; filters
 * here are the rules that need the whole cluster.
 */
import type { Filter } from './types.js';

/** The host itself said it can run the unit. */
export const hostAccepted: Filter = (req, candidate) => {
  if (candidate.accepts.has(req.unit)) return undefined;
  return candidate.refuses.get(req.unit) ?? 'host did not bid for the unit';
};

/** A unit is never placed twice on one machine (globals re-offered to a host that has them). */
export const notAlreadyThere: Filter = (req, candidate, state) =>
  state.unitsOn(candidate.machineId).has(req.unit) ? 'unit already assigned to this machine' : undefined;

export const defaultFilters: readonly Filter[] = [hostAccepted, notAlreadyThere];
