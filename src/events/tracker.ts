/**
 * The events one change cannot tell alone: a unit moved (placed on a machine
 * after it was placed on another) and engine leadership (the lowest create
 * revision among the candidate keys leads, leader-rule.ts). The tracker
 * remembers where each unit is placed and who the candidates are, seeded
 * from the store at the start revision, and turns each revision's changes
 * into events. Pure: no I/O, fed by event-watch.ts.
 *
 * Changes are taken a revision at a time because an engine's move is one
 * transaction: the new assignment and the deletion of the old one share a
 * revision, in either order.
 */
import { leadingCandidate } from '../engine/leader-rule.js';
import type { Keys } from '../registry/keys.js';
import { deriveEvents, type FlotillaEvent, type KeyChange } from './derive.js';

/** A watched change with what the tracker needs beyond deriveEvents. */
export interface TrackedChange extends KeyChange {
  /** Create revision of the key (0 for a delete). */
  createRevision: number;
}

/** A key as a range read at the start revision returns it. */
export interface SeedKey {
  key: string;
  value: string;
  createRevision: number;
}

interface CandidateKey {
  key: string;
  createRevision: number;
  machine: string;
}

export class EventTracker {
  /** unit -> machines it is assigned to now */
  private readonly placedOn = new Map<string, Set<string>>();
  /** unit -> the machine it was last placed on alone (kept after its assignment goes: that is a move's origin) */
  private readonly lastOn = new Map<string, string>();
  private readonly candidates = new Map<string, CandidateKey>();
  private leader: CandidateKey | undefined;

  constructor(private readonly keys: Keys) {}

  /** The state at the start revision: assignments and candidate keys. No events. */
  seed(assignments: Iterable<SeedKey>, candidates: Iterable<SeedKey>): void {
    for (const kv of assignments) {
      const a = this.keys.assignmentOfKey(kv.key);
      if (a) this.assign(a.unit, a.machineId, true);
    }
    for (const unit of this.placedOn.keys()) this.settle(unit);
    for (const kv of candidates) this.candidate(kv.key, kv.value, kv.createRevision);
    this.leader = leadingCandidate(this.candidates.values());
  }

  /** Who leads as of the last revision applied (machine id), if anyone. */
  get leaderMachine(): string | undefined {
    return this.leader?.machine;
  }

  /** Events of one revision, in the order of its changes, moves right after their placements. */
  applyRevision(revision: number, changes: readonly TrackedChange[]): FlotillaEvent[] {
    const out: FlotillaEvent[] = [];
    const touched = new Set<string>();
    let electionTouched = false;
    for (const c of changes) {
      out.push(...deriveEvents(this.keys, c));
      const a = this.keys.assignmentOfKey(c.key);
      if (a) {
        this.assign(a.unit, a.machineId, c.value !== undefined);
        touched.add(a.unit);
        continue;
      }
      const destroyed = c.value === undefined ? this.keys.unitOfKey(c.key) : undefined;
      if (destroyed !== undefined) {
        // A unit submitted again later starts afresh: its first placement is no move.
        this.lastOn.delete(destroyed);
        continue;
      }
      if (this.keys.candidateOfKey(c.key) !== undefined) {
        electionTouched = true;
        if (c.value === undefined) this.candidates.delete(c.key);
        else this.candidate(c.key, c.value, c.createRevision);
      }
    }
    const events = this.withMoves(out, revision);
    for (const unit of touched) this.settle(unit);
    if (electionTouched) events.push(...this.leadership(revision));
    return events;
  }

  private withMoves(events: FlotillaEvent[], index: number): FlotillaEvent[] {
    const out: FlotillaEvent[] = [];
    for (const e of events) {
      out.push(e);
      if (e.type !== 'UnitPlaced' || e.unit === undefined || e.machine === undefined) continue;
      const from = this.lastOn.get(e.unit);
      const now = this.placedOn.get(e.unit);
      // On one machine only now, and that is not where it was: it moved. A
      // global unit gaining a machine beside the others did not.
      if (from !== undefined && from !== e.machine && now?.size === 1 && now.has(e.machine)) {
        out.push({ index, topic: 'Unit', type: 'UnitMoved', unit: e.unit, machine: e.machine, from, reason: `moved from ${from}` });
      }
    }
    return out;
  }

  private leadership(index: number): FlotillaEvent[] {
    const next = leadingCandidate(this.candidates.values());
    const before = this.leader;
    if (next?.key === before?.key) return [];
    this.leader = next;
    const out: FlotillaEvent[] = [];
    if (before) out.push({ index, topic: 'Engine', type: 'EngineDeposed', machine: before.machine });
    if (next) out.push({ index, topic: 'Engine', type: 'EngineElected', machine: next.machine });
    return out;
  }

  private assign(unit: string, machine: string, present: boolean): void {
    let on = this.placedOn.get(unit);
    if (present) {
      if (!on) this.placedOn.set(unit, (on = new Set()));
      on.add(machine);
    } else if (on) {
      on.delete(machine);
      if (on.size === 0) this.placedOn.delete(unit);
    }
  }

  /** After a revision: where the unit is now, if it is anywhere, is where a later move starts from. */
  private settle(unit: string): void {
    const on = this.placedOn.get(unit);
    if (!on || on.size === 0) return;
    const last = this.lastOn.get(unit);
    if (last === undefined || !on.has(last)) this.lastOn.set(unit, on.values().next().value as string);
  }

  private candidate(key: string, machine: string, createRevision: number): void {
    // Machine ids are what candidates hold; anything longer is not one (and is not echoed at length).
    this.candidates.set(key, { key, createRevision, machine: machine.slice(0, 64) });
  }
}
