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
  /**
   * Why no machine took the unit, as the engine last reported it. Set only
   * while it matters: desired state not inactive, no machine assigned (for a
   * global unit: none at all), and the report is for the unit's current content.
   */
  unplaced?: Unplaced;
  /**
   * Why the machine the unit is assigned to could not carry it out (its
   * state's `failure`, for the unit's current content); never set for
   * global units (see their states).
   */
  failure?: string;
}

/** The engine's last failed placement round for a unit. */
export interface Unplaced {
  /** machine id -> why that machine cannot take the unit; NO_LIVE_MACHINE when none was live. */
  reasons: Record<string, string>;
  /** ISO time of the round. */
  at: string;
}

/** Key of `Unplaced.reasons` used when no machine was live to ask. */
export { NO_LIVE_MACHINE } from '../registry/records.js';

/** What systemd on one machine reports for one unit. */
export interface UnitStateView {
  name: string;
  machineId: string;
  hash: string;
  load: string;
  active: string;
  sub: string;
  /**
   * Why that machine's agent could not carry out the unit's assignment
   * (fetch, write, link, reload, start or stop failed), or why systemd's
   * start job failed; absent while all is well. The unit counts as failed
   * there (list-units shows ACTIVE `failed`).
   */
  failure?: string;
}

export interface MachineSummary {
  id: string;
  publicIP: string;
  /** Effective metadata: config metadata overlaid with dynamic metadata. */
  metadata: Record<string, string>;
  /** The port the machine's sshd listens on, as its agent advertises it (22 when it says nothing). */
  sshPort: number;
  /** Whether the agent drives the system manager or a user manager (`systemctl --user`). */
  systemdScope: 'system' | 'user';
  /** The Flotilla release its flotillad runs (absent when its record does not say): shows a half-done upgrade. */
  version?: string;
}

/** Dynamic metadata changes for one machine, applied together or not at all. */
export interface MetadataChange {
  set?: Readonly<Record<string, string>>;
  remove?: readonly string[];
}

export interface MetadataResult {
  /** The full machine id the argument resolved to. */
  machineId: string;
  /** False when the id was given in full but no such machine is registered now (the change still applies when it joins). */
  registered: boolean;
}

/** A unit as stored, without what the engine and agents report about it: one read. */
export interface UnitRecordView {
  name: string;
  hash: string;
  desiredState: DesiredState;
}

/**
 * Where in the store's history a write of this client landed, so a change
 * feed opened afterwards can start right after it (opaque to operations).
 */
export interface WriteMark {
  readonly revision: string;
}

/** Stops a subscription; resolves once no more callbacks will run. */
export type Unsubscribe = () => Promise<void>;

export interface ClusterClient {
  /** Sorted by name. */
  listUnits(): Promise<UnitSummary[]>;
  getUnit(name: string): Promise<UnitSummary | undefined>;
  /** The stored record only (no derived state): whether the unit exists, its content and desired state. */
  getUnitRecord(name: string): Promise<UnitRecordView | undefined>;
  getUnitFile(name: string): Promise<UnitFile | undefined>;
  /**
   * Stores content and record with desired state `desired` ('inactive' by
   * default; a replace resets the desired state too) in one write. A
   * template is refused any state but inactive (InvalidInputError).
   */
  createUnit(name: string, file: UnitFile, desired?: DesiredState): Promise<WriteMark>;
  /** False if the unit does not exist. */
  setDesiredState(name: string, state: DesiredState): Promise<boolean>;
  /** False if the unit did not exist. */
  destroyUnit(name: string): Promise<boolean>;
  /** Sorted by unit, then machine. */
  listUnitStates(unit?: string): Promise<UnitStateView[]>;
  /** Sorted by id. */
  listMachines(): Promise<MachineSummary[]>;
  /** Every unit's stored file, sorted by name (units whose content is missing are left out). */
  listUnitFiles(): Promise<Array<{ name: string; file: UnitFile }>>;
  /**
   * Dynamic metadata. `machine` is a full machine id or a unique prefix of a
   * registered one; keys are [A-Za-z0-9_.-]+ and values non-empty. Everything
   * is validated before anything is written (InvalidInputError otherwise).
   * A set value overrides the machine's config metadata; a removal hides it too.
   */
  updateMachineMetadata(machine: string, change: MetadataChange): Promise<MetadataResult>;
  /**
   * Calls `onChange(unit)` soon after anything that can change the summary or
   * the systemd states of one of `units` changes. Resolves once the
   * subscription is live, so a read made afterwards cannot miss a change.
   * Notifications may be spurious or coalesced; callers re-read. With
   * `after`, changes since that write are reported too (the feed starts
   * just after it), so a caller that wrote first and watches second misses
   * nothing either.
   */
  watchUnits(units: readonly string[], onChange: (unit: string) => void, after?: WriteMark): Promise<Unsubscribe>;
  close(): Promise<void>;
}
