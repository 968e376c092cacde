/**
 * What the engine's pure decisions return and the Engine applies: the
 * writes (sent through the fence), what to remember once they are written,
 * and the log lines to emit. A plan is data: building one does no I/O and
 * changes no state, so a plan that is never applied changed nothing.
 */
import type { OfferedContent } from '../registry/records.js';
import type { Placement } from '../scheduler/index.js';
import { Batch } from './batch.js';
import type { RoundUnit } from './round.js';
import type { BookChange } from './unplaced-book.js';

export type LogLevel = 'debug' | 'info' | 'warn';

export interface LogLine {
  level: LogLevel;
  fields: Record<string, unknown>;
  msg: string;
}

/** Log lines a decision wants emitted, in order. */
export class PlanLog {
  readonly lines: LogLine[] = [];
  debug(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'debug', fields, msg });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'info', fields, msg });
  }
  warn(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'warn', fields, msg });
  }
}

/** The assignments of a machine whose lease is gone: deleted in a transaction of their own that requires the machine key to be absent. */
export interface Release {
  machineId: string;
  keys: string[];
}

/** An offer/bid round to open: its units, what the offer says, and the machines expected to bid. */
export interface RoundToOpen {
  units: RoundUnit[];
  contents: OfferedContent[];
  machines: string[];
}

/** An assignment removed by a step (a placement rule broke, or housekeeping). */
export interface Unscheduled {
  unit: string;
  machineId: string;
  reason: string;
  /** A placement rule broke (not housekeeping). */
  rule: boolean;
}

/** The plan of one reconcile step (see decide.ts). */
export interface EnginePlan {
  /** Puts and deletes, written in one fenced step (with the offer, when a round opens). */
  writes: Batch;
  /** Gone machines to release; when there are any, the step does nothing else. */
  releases: Release[];
  round?: RoundToOpen;
  /** Unplaced records changed by `writes`, to remember once written. */
  unplaced: BookChange[];
  /** Gone machines with no departure on record: record them as leaving at the snapshot's time. */
  departures: string[];
  /** Reconcile again at this time (held-back OnDisconnect=stop units). */
  wakeAt?: number;
  log: LogLine[];
  /** The Replaces cycles reported (remembered so each is logged once). */
  cycles: string;
  /** Assignments `writes` deletes on live machines. */
  unscheduled: Unscheduled[];
  /** Units `writes` assigns directly, without a round (content with nothing for a host to check). */
  placed: Placement[];
}

export function emptyPlan(cycles: string): EnginePlan {
  return { writes: new Batch(), releases: [], unplaced: [], departures: [], log: [], cycles, unscheduled: [], placed: [] };
}
