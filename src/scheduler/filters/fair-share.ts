/**
 * A round resolved before every live machine bid (a slow host, or a dead one
 * whose lease has not expired yet) must not hand the late machines' share to
 * the early ones: each bidder takes units only up to an even share of all
 * units over the bidders and the machines still expected. What is left waits
 * for the next round, where the late machines can bid. Global units are not
 * shared out: they go to every machine.
 */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

/** `cap`: the most units (global ones included) any machine may hold after this placement pass. */
export function fairShareFilter(cap: number): Filter {
  return (req, candidate, state) => (!req.requirements.global && state.loadOf(candidate.machineId) >= cap ? reasons.fairShare(cap) : undefined);
}

/** The even share: every unit placed or to place, over every machine that holds or may take them, rounded up. */
export function fairShareCap(loads: Iterable<number>, machines: number, toPlace: number): number {
  let total = toPlace;
  for (const l of loads) total += l;
  return Math.ceil(total / Math.max(1, machines));
}
