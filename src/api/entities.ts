/**
 * The JSON entities the API serves, built from the client library's views.
 * /fleet/v1 keeps fleet's schema: every field omitted when empty (an empty
 * page is `{}`), names as fleet spelled them (machineID, primaryIP). The
 * /flotilla/v1 entities say what Flotilla knows beyond it. Pure.
 */
import type { InventoryRecord } from '../registry/records.js';
import type { MachineSummary, UnitStateView, UnitSummary } from '../client/types.js';
import type { UnitOption } from '../unit/index.js';

export interface FleetUnit {
  name: string;
  options?: UnitOption[];
  desiredState?: string;
  currentState?: string;
  machineID?: string;
}

export interface FleetUnitState {
  name: string;
  hash?: string;
  machineID?: string;
  systemdLoadState?: string;
  systemdActiveState?: string;
  systemdSubState?: string;
}

export interface FleetMachine {
  id: string;
  primaryIP?: string;
  metadata?: Record<string, string>;
}

/**
 * currentState is the same in lists and on GET of one unit, for global units
 * too (fleet left it out of the item but showed "inactive" in lists).
 */
export function fleetUnit(u: UnitSummary, options: readonly UnitOption[] | undefined): FleetUnit {
  const out: FleetUnit = { name: u.name };
  if (options && options.length > 0) out.options = options.map((o) => ({ section: o.section, name: o.name, value: o.value }));
  out.desiredState = u.desiredState;
  out.currentState = u.currentState;
  if (u.machineId) out.machineID = u.machineId;
  return out;
}

export function fleetUnitState(s: UnitStateView): FleetUnitState {
  const out: FleetUnitState = { name: s.name };
  if (s.hash) out.hash = s.hash;
  if (s.machineId) out.machineID = s.machineId;
  if (s.load) out.systemdLoadState = s.load;
  if (s.active) out.systemdActiveState = s.active;
  if (s.sub) out.systemdSubState = s.sub;
  return out;
}

export function fleetMachine(m: MachineSummary): FleetMachine {
  const out: FleetMachine = { id: m.id };
  if (m.publicIP) out.primaryIP = m.publicIP;
  if (Object.keys(m.metadata).length > 0) out.metadata = { ...m.metadata };
  return out;
}

/** A fleet page: the list under its name, omitted when empty, and the next token. */
export function fleetPage<K extends string, T>(key: K, items: readonly T[], nextPageToken: string | undefined): Partial<Record<K, T[]>> & { nextPageToken?: string } {
  const out: Partial<Record<K, T[]>> & { nextPageToken?: string } = {};
  if (items.length > 0) (out as Record<K, T[]>)[key] = [...items];
  if (nextPageToken) out.nextPageToken = nextPageToken;
  return out;
}

export interface Provenance {
  source: string;
  commit: string;
  dirty: boolean;
  at: string;
  /** False when the unit changed since that source last wrote it (someone else wrote it since). */
  current: boolean;
}

export interface FlotillaUnit extends UnitSummary {
  /** The source (flotctl sync) that owns the unit, and what its last write came from. */
  provenance?: Provenance;
}

export function flotillaUnit(u: UnitSummary, owner: InventoryRecord | undefined): FlotillaUnit {
  const out: FlotillaUnit = { ...u };
  if (owner) out.provenance = { source: owner.source, commit: owner.commit, dirty: owner.dirty, at: owner.at, current: owner.hash === u.hash };
  return out;
}

export interface FlotillaMachine extends MachineSummary {
  /** Listed machines hold a live presence lease: `up`. (A machine that left is not listed.) */
  state: 'up';
}

export function flotillaMachine(m: MachineSummary): FlotillaMachine {
  return { ...m, metadata: { ...m.metadata }, state: 'up' };
}
