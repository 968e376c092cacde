/**
 * The scheduler's world: plain data in, placements out. No I/O, no clocks,
 * so it can be exercised exhaustively by an in-memory harness.
 */
import type { UnitRequirements } from '../unit/requirements.js';
import type { ConflictObjectors } from './filters/conflicts.js';
import type { ReplaceGraph } from './replace-graph.js';

/** A machine that answered the round's offer. */
export interface Candidate {
  machineId: string;
  /** Units assigned to it now, global units included. */
  load: number;
  /** Offered units the host said it can run. */
  accepts: { has(unit: string): boolean };
  /** Offered units the host refused, with its reason. */
  refuses: { get(unit: string): string | undefined };
  /**
   * The machine's metadata (config overlaid with dynamic), when the caller
   * knows it. The host checks MachineMetadata itself when it bids; the engine
   * checks it again so that placing and re-evaluating agree.
   */
  metadata?: Readonly<Record<string, string>>;
}

export interface PlacementRequest {
  unit: string;
  requirements: UnitRequirements;
}

/** What is already running where, as the engine sees it. */
export interface ClusterView {
  /** machineId -> units assigned there. */
  unitsByMachine: ReadonlyMap<string, ReadonlySet<string>>;
  /** Requirements of placed units (their Conflicts, peers, Replaces matter to newcomers); absent = none. */
  requirements?: ReadonlyMap<string, UnitRequirements>;
  /** Prebuilt relation over every known unit; built from requirements + requests when absent. */
  replaces?: ReplaceGraph;
}

export interface Placement {
  unit: string;
  machineId: string;
}

/** A placed unit displaced by a unit that replaces it (or by its peer leaving). */
export interface Move {
  unit: string;
  from: string;
  /** Where it goes; absent when no machine can take it now (it is then also in `unplaced`, unless global). */
  to?: string;
  reason: string;
}

export interface Unplaced {
  unit: string;
  /** machineId -> why it could not take the unit. */
  reasons: Record<string, string>;
}

export interface Decision {
  placements: Placement[];
  moves: Move[];
  unplaced: Unplaced[];
}

/**
 * A feasibility filter: returns undefined if the unit may go to the candidate,
 * else the reason it may not (shown to users).
 */
export type Filter = (req: PlacementRequest, candidate: Candidate, state: PlacementState) => string | undefined;

/** State that evolves as one placement pass (placeUnits) places units, so later units see earlier ones. */
export interface PlacementState {
  loadOf(machineId: string): number;
  unitsOn(machineId: string): ReadonlySet<string>;
  /** Units on the machine that declare Conflicts, indexed by what they name. */
  conflictObjectorsOn(machineId: string): ConflictObjectors;
  requirementsOf(unit: string): UnitRequirements | undefined;
  readonly replaces: ReplaceGraph;
}
