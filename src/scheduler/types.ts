/**
 * The scheduler's world: plain data in, placements out. No I/O, no clocks,
 * so it can be exercised exhaustively by an in-memory harness.
 */
import type { UnitRequirements } from '../unit/requirements.js';

/** A machine that answered the round's offer. */
export interface Candidate {
  machineId: string;
  /** Units assigned to it now, global units included. */
  load: number;
  /** Offered units the host said it can run. */
  accepts: ReadonlySet<string>;
  /** Offered units the host refused, with its reason. */
  refuses: ReadonlyMap<string, string>;
}

export interface PlacementRequest {
  unit: string;
  requirements: UnitRequirements;
}

/** What is already running where, as the engine sees it. */
export interface ClusterView {
  /** machineId -> units assigned there. */
  unitsByMachine: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Placement {
  unit: string;
  machineId: string;
}

export interface Unplaced {
  unit: string;
  /** machineId -> why it could not take the unit. */
  reasons: Record<string, string>;
}

export interface Decision {
  placements: Placement[];
  unplaced: Unplaced[];
}

/**
 * A feasibility filter: returns undefined if the unit may go to the candidate,
 * else the reason it may not (shown to users).
 */
export type Filter = (req: PlacementRequest, candidate: Candidate, state: RoundState) => string | undefined;

/** State that evolves as a round places units, so later units see earlier ones. */
export interface RoundState {
  readonly view: ClusterView;
  loadOf(machineId: string): number;
  unitsOn(machineId: string): ReadonlySet<string>;
}
