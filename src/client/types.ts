/**
 * The one interface flotctl talks to. The etcd driver (etcd-client.ts) is the
 * only implementation today; an HTTP-API driver can be added later without
 * touching the CLI or the operations, which only see these types.
 */
import type { UnitFile } from '../unit/index.js';

export type DesiredState = 'inactive' | 'loaded' | 'launched';

export interface UnitSummary {
  name: string;
  hash: string;
  desiredState: DesiredState;
  /** Global units: equal to desiredState (they are never scheduled). */
  currentState: DesiredState;
  /** The machine the unit is assigned to; never set for global units. */
  machineId?: string;
  global: boolean;
  description?: string;
}

/** What systemd on one machine reports for one unit. */
export interface UnitStateView {
  name: string;
  machineId: string;
  hash: string;
  load: string;
  active: string;
  sub: string;
}

export interface MachineSummary {
  id: string;
  publicIP: string;
  /** Effective metadata: config metadata overlaid with dynamic metadata. */
  metadata: Record<string, string>;
}

/** Stops a subscription; resolves once no more callbacks will run. */
export type Unsubscribe = () => Promise<void>;

export interface ClusterClient {
  /** Sorted by name. */
  listUnits(): Promise<UnitSummary[]>;
  getUnit(name: string): Promise<UnitSummary | undefined>;
  getUnitFile(name: string): Promise<UnitFile | undefined>;
  /** Stores content and record with desired state 'inactive' (a replace resets the desired state too). */
  createUnit(name: string, file: UnitFile): Promise<void>;
  /** False if the unit does not exist. */
  setDesiredState(name: string, state: DesiredState): Promise<boolean>;
  /** False if the unit did not exist. */
  destroyUnit(name: string): Promise<boolean>;
  /** Sorted by unit, then machine. */
  listUnitStates(unit?: string): Promise<UnitStateView[]>;
  /** Sorted by id. */
  listMachines(): Promise<MachineSummary[]>;
  /**
   * Calls `onChange(unit)` soon after anything that can change the summary or
   * the systemd states of one of `units` changes. Resolves once the
   * subscription is live, so a read made afterwards cannot miss a change.
   * Notifications may be spurious or coalesced; callers re-read.
   */
  watchUnits(units: readonly string[], onChange: (unit: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
