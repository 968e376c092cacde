/**
 * What the engine's decisions read: a read-only view of the cluster. The
 * watch-fed ClusterState implements it for the running engine; tests of the
 * pure decisions (decide.ts) implement it in memory. Nothing here writes,
 * and no query records anything as a side effect: departures are recorded
 * by the applier (ClusterState.recordDeparture) when a plan says so.
 */
import type { AssignmentRecord, UnitRecord } from '../registry/records.js';
import type { ReplaceGraph } from '../scheduler/index.js';
import type { UnitRequirements } from '../unit/requirements.js';

export interface PlacedEntry {
  key: string;
  machineId: string;
  record: AssignmentRecord;
  /** Create revision of the assignment key: orders assignments by age. */
  since: number;
}

/** An assignment key whose value does not decode, with the machine and unit the key names (undefined: the key itself is not well-formed). */
export interface MalformedAssignment {
  key: string;
  since: number;
  at: { machineId: string; unit: string } | undefined;
}

export interface HostJudgement {
  /** Hosts must read the content to judge it. */
  needed: boolean;
  /** ... and judge each unit name on its own. */
  byName: boolean;
}

export type RequirementsResult = { ok: true; requirements: UnitRequirements } | { ok: false; reason: string };

/** What takeSnapshot reads (snapshot.ts). */
export interface SnapshotSource {
  unitRecords(): Iterable<UnitRecord>;
  /** Parsed requirements of the unit's current content; undefined if not loaded yet. */
  requirementsOf(unit: UnitRecord): RequirementsResult | undefined;
  /** The last load looked for this unit's content and did not find it. */
  contentMissing(unit: UnitRecord): boolean;
  liveMachineIds(): string[];
  effectiveMetadata(): Map<string, Record<string, string>>;
  /** The Replaces relation over the active units (may reuse the last one built). */
  replaceGraph(active: ReadonlyArray<readonly [string, UnitRequirements]>): ReplaceGraph;
}

/** What the decisions read besides the snapshot. */
export interface EngineView {
  /** The store revision the assignments cache has caught up with. */
  readonly assignmentsRevision: number;
  unitRecords(): Iterable<UnitRecord>;
  unit(name: string): UnitRecord | undefined;
  /** The unit's record is in the store but does not decode (so unit() has none). */
  unitUnreadable(name: string): boolean;
  /** Every assignment with the machine it is keyed under. */
  placedAssignments(): Iterable<PlacedEntry>;
  malformedAssignments(): Iterable<MalformedAssignment>;
  hostJudgement(hash: string): HostJudgement;
  /**
   * When the OnDisconnect=stop units of a machine this engine saw leave may
   * be taken as stopped; undefined when no departure is on record for it.
   */
  stopDeadline(machineId: string): number | undefined;
  /** The stop deadline of a machine with no departure on record, were it recorded as leaving at `at` (the safe side). */
  assumedStopDeadline(at: number): number;
  /**
   * The content a rollout keeps this machine on instead of the unit
   * record's (a global unit rolling host by host, src/rollout/pins.ts);
   * undefined: the unit record's hash.
   */
  rolloutPin(unit: string, unitHash: string, machineId: string): string | undefined;
}
