/**
 * Counters for the scale benchmark and for debugging: what rounds cost in
 * etcd requests and what they achieved. Logged per round at debug level and
 * readable as totals. Only the Engine's applier counts (where it writes);
 * the decisions report facts in their plans and count nothing.
 */
import type { Decision } from '../scheduler/index.js';
import type { Round } from './round.js';

export interface RoundStats {
  round: string;
  offered: number;
  /** Bids received: one etcd put each, by the agents. */
  bids: number;
  placed: number;
  moved: number;
  unplaced: number;
  /** Engine requests for this round: the offer and the resolution transactions. */
  engineRequests: number;
  ms: number;
}

export class EngineStats {
  rounds = 0;
  /** Every etcd request the engine made while leading: fenced transactions and content reads. */
  etcdRequests = 0;
  unitsOffered = 0;
  unitsPlaced = 0;
  unitsMoved = 0;
  unitsUnplaced = 0;
  /** Assignments removed because their rules no longer held (re-evaluation). */
  unitsUnscheduled = 0;
  /** Units assigned by a step without a round: content with nothing for a host to check. */
  unitsPlacedDirectly = 0;
  bids = 0;
  /** Writes the fence refused: this engine had been deposed (it steps down at once). */
  fencedWritesRejected = 0;

  addRound(r: RoundStats): void {
    this.rounds++;
    this.unitsOffered += r.offered;
    this.unitsPlaced += r.placed;
    this.unitsMoved += r.moved;
    this.unitsUnplaced += r.unplaced;
    this.bids += r.bids;
  }

  totals(): Readonly<Omit<EngineStats, 'addRound' | 'totals'>> {
    const { rounds, etcdRequests, unitsOffered, unitsPlaced, unitsMoved, unitsUnplaced, unitsUnscheduled, unitsPlacedDirectly, bids, fencedWritesRejected } = this;
    return { rounds, etcdRequests, unitsOffered, unitsPlaced, unitsMoved, unitsUnplaced, unitsUnscheduled, unitsPlacedDirectly, bids, fencedWritesRejected };
  }
}

export function roundStats(round: Round, decision: Decision, bids: number): RoundStats {
  return {
    round: round.id,
    offered: round.units.length,
    bids,
    placed: decision.placements.length,
    moved: decision.moves.filter((m) => m.to !== undefined).length,
    unplaced: decision.unplaced.length,
    engineRequests: round.requests,
    ms: Date.now() - round.openedAt,
  };
}
