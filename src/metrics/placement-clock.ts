/**
 * Placement latency from the two writes that bound it, as a watcher of the
 * store sees them: the unit record written with desired state `launched`
 * (a new unit, a start, or new content) starts a clock; the first state of
 * that unit with that content reported `active` by any machine stops it.
 * Pure: the caller feeds decoded records and the time it heard of them.
 *
 * A unit set back to loaded/inactive, or destroyed, before it ran yields no
 * figure (nothing was placed to run). Units already launched when the
 * watcher started are not timed: their write time is unknown.
 */
import type { UnitRecord, UnitStateRecord } from '../registry/records.js';

interface Pending {
  hash: string;
  since: number;
}

export class PlacementClock {
  private readonly pending = new Map<string, Pending>();

  /** A unit record was written (`now`) or deleted (`record` undefined). */
  unitWritten(name: string, record: UnitRecord | undefined, previous: UnitRecord | undefined, now: number): void {
    if (!record || record.desired !== 'launched') {
      this.pending.delete(name);
      return;
    }
    const again = previous?.desired === 'launched' && previous.hash === record.hash;
    if (!again) this.pending.set(name, { hash: record.hash, since: now });
  }

  /** A state was published; returns the latency in seconds when it completes a placement. */
  stateWritten(state: UnitStateRecord, now: number): number | undefined {
    const p = this.pending.get(state.unit);
    if (!p || state.active !== 'active' || state.hash !== p.hash) return undefined;
    this.pending.delete(state.unit);
    return Math.max(0, now - p.since) / 1000;
  }

  /** Units waiting to become active (bounded by the number of units). */
  get waiting(): number {
    return this.pending.size;
  }

  clear(): void {
    this.pending.clear();
  }
}

/**
 * Units by machine and active state, from the states the agents publish:
 * what the flotilla_units gauge reports.
 */
export function unitCensus(states: Iterable<UnitStateRecord>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of states) {
    let byState = out.get(s.machineId);
    if (!byState) out.set(s.machineId, (byState = new Map()));
    byState.set(s.active, (byState.get(s.active) ?? 0) + 1);
  }
  return out;
}
