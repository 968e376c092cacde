/**
 * Pure derivation of cluster events from etcd changes: one watched change
 * (key, value before and after, revision) in, zero or more events out. No I/O
 * here, so the rules are tested table-driven (test/events/derive.test.ts);
 * what needs memory of earlier changes (moves, leadership) is in tracker.ts,
 * the watch from a revision in event-watch.ts.
 *
 * Events carry the etcd revision as their index (Nomad's Index), so a client
 * that resumes from its last index misses nothing etcd still holds.
 * Values are untrusted: a value that does not decode yields no event.
 */
import type { Keys } from '../registry/keys.js';
import { recordDecoders } from '../registry/records-at.js';
import type { UnitStateRecord } from '../registry/records.js';

export type EventType =
  | 'UnitSubmitted'
  | 'UnitDestroyed'
  | 'UnitPlaced'
  | 'UnitUnassigned'
  | 'UnitStarted'
  | 'UnitStopped'
  | 'UnitFailed'
  | 'UnitUnplaced'
  | 'UnitMoved'
  | 'UnitDesiredChanged'
  | 'UnitReplaced'
  | 'UnitAssignmentChanged'
  | 'UnitStateChanged'
  | 'UnitStateRemoved'
  | 'UnitUnplacedCleared'
  | 'MachineJoined'
  | 'MachineLeft'
  | 'EngineElected'
  | 'EngineDeposed';

export interface FlotillaEvent {
  /** etcd revision of the change. */
  index: number;
  topic: 'Unit' | 'Machine' | 'Engine';
  type: EventType;
  unit?: string;
  machine?: string;
  /** Why (unplaced reasons, failure text), for people. */
  reason?: string;
  /** UnitMoved: the machine the unit was placed on before. */
  from?: string;
}

/** One change as a watch reports it; value/previous are undefined when absent. */
export interface KeyChange {
  revision: number;
  key: string;
  value: string | undefined;
  previous: string | undefined;
}

export function deriveEvents(keys: Keys, c: KeyChange): FlotillaEvent[] {
  const d = recordDecoders(keys);
  const index = c.revision;
  const unitName = keys.unitOfKey(c.key);
  if (unitName !== undefined) {
    if (c.value === undefined) return [{ index, topic: 'Unit', type: 'UnitDestroyed', unit: unitName }];
    const now = d.unit(c.value, c.key);
    if (!now) return [];
    const before = c.previous === undefined ? undefined : d.unit(c.previous, c.key);
    if (!before) return [{ index, topic: 'Unit', type: 'UnitSubmitted', unit: now.name }];
    // A re-put that changed something is an event too: waits on the unit follow the stream alone.
    const out: FlotillaEvent[] = [];
    if (before.desired !== now.desired) out.push({ index, topic: 'Unit', type: 'UnitDesiredChanged', unit: now.name, reason: `desired ${before.desired} -> ${now.desired}` });
    if (before.hash !== now.hash) out.push({ index, topic: 'Unit', type: 'UnitReplaced', unit: now.name, reason: `content ${before.hash.slice(0, 12)} -> ${now.hash.slice(0, 12)}` });
    return out;
  }
  const machine = keys.machineOfKey(c.key);
  if (machine !== undefined) {
    if (c.value === undefined) return [{ index, topic: 'Machine', type: 'MachineLeft', machine }];
    // A re-put of the record (new metadata) is not a join.
    if (c.previous !== undefined || !d.machine(c.value, c.key)) return [];
    return [{ index, topic: 'Machine', type: 'MachineJoined', machine }];
  }
  const assignment = keys.assignmentOfKey(c.key);
  if (assignment !== undefined) {
    const { machineId, unit } = assignment;
    if (c.value === undefined) return [{ index, topic: 'Unit', type: 'UnitUnassigned', unit, machine: machineId }];
    const now = d.assignment(c.value, c.key);
    if (!now) return [];
    if (c.previous === undefined) return [{ index, topic: 'Unit', type: 'UnitPlaced', unit, machine: machineId }];
    const before = d.assignment(c.previous, c.key);
    if (before && before.desired === now.desired && before.hash === now.hash) return [];
    const what = before === undefined ? 'assignment rewritten' : [before.desired !== now.desired ? `desired ${before.desired} -> ${now.desired}` : '', before.hash !== now.hash ? `content ${before.hash.slice(0, 12)} -> ${now.hash.slice(0, 12)}` : ''].filter(Boolean).join(', ');
    return [{ index, topic: 'Unit', type: 'UnitAssignmentChanged', unit, machine: machineId, reason: what }];
  }
  const state = keys.stateOfKey(c.key);
  if (state !== undefined) {
    if (c.value === undefined) return [{ index, topic: 'Unit', type: 'UnitStateRemoved', unit: state.unit, machine: state.machineId }];
    const now = d.state(c.value, c.key);
    if (!now) return [];
    const before = c.previous === undefined ? undefined : d.state(c.previous, c.key);
    const base = { index, topic: 'Unit' as const, unit: now.unit, machine: now.machineId };
    if (before?.active !== now.active) {
      if (now.active === 'active') return [{ ...base, type: 'UnitStarted' }];
      if (now.active === 'failed') return [{ ...base, type: 'UnitFailed', ...(now.failure ? { reason: now.failure } : {}) }];
      if (now.active === 'inactive' && before !== undefined) return [{ ...base, type: 'UnitStopped' }];
    }
    // The agent reports `failed` first and why its start job failed in a later
    // write: the reason arriving is the failure's event, so it carries the reason.
    if (now.active === 'failed' && now.failure !== undefined && now.failure !== before?.failure) return [{ ...base, type: 'UnitFailed', reason: now.failure }];
    // Any other change of what the agent reports (first report, load, sub, applied, content, failure text).
    if (before && sameState(before, now)) return [];
    const shown = `${now.load}/${now.active}/${now.sub} applied ${now.applied}${now.failure ? `: ${now.failure}` : ''}`;
    return [{ ...base, type: 'UnitStateChanged', reason: shown }];
  }
  const unplaced = keys.unplacedOfKey(c.key);
  if (unplaced !== undefined && c.value === undefined) return [{ index, topic: 'Unit', type: 'UnitUnplacedCleared', unit: unplaced }];
  if (unplaced !== undefined && c.value !== undefined) {
    const r = d.unplaced(c.value, c.key);
    if (!r) return [];
    const reason = Object.entries(r.reasons).map(([m, why]) => `${m}: ${why}`).join('; ');
    return [{ index, topic: 'Unit', type: 'UnitUnplaced', unit: r.unit, reason }];
  }
  return [];
}

function sameState(a: UnitStateRecord, b: UnitStateRecord): boolean {
  return a.hash === b.hash && a.load === b.load && a.active === b.active && a.sub === b.sub && a.applied === b.applied && a.failure === b.failure;
}
