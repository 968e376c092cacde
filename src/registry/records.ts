/**
 * The values stored under the keys in keys.ts, and their codecs. Values read
 * from etcd are untrusted (anyone with etcd access can write them), so every
 * decoder checks the shape and returns undefined for garbage instead of
 * throwing deep inside a watch handler.
 */

export const DESIRED_STATES = ['inactive', 'loaded', 'launched'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];
/** What an agent is told to do with an assigned unit. */
export type AssignedState = Exclude<DesiredState, 'inactive'>;

export function isDesiredState(v: unknown): v is DesiredState {
  return typeof v === 'string' && (DESIRED_STATES as readonly string[]).includes(v);
}

/** P/units/<name> */
export interface UnitRecord {
  name: string;
  hash: string;
  desired: DesiredState;
}

/** P/machines/<id> */
export interface MachineRecord {
  id: string;
  publicIP: string;
  /** Metadata from the machine's config; dynamic metadata lives in its own keys. */
  metadata: Record<string, string>;
  version: string;
  /** The agent's lease TTL: how long after its last renewal the machine may still be running units. */
  ttlSeconds?: number;
  /** Where the host's sshd listens, for flotctl status/journal/ssh; absent means 22. */
  sshPort?: number;
  /** Which systemd the agent drives: `systemctl --user` is needed to reach a user manager remotely. */
  systemdScope?: SystemdScope;
}

export type SystemdScope = 'system' | 'user';

/** P/assignments/<machine>/<unit> */
export interface AssignmentRecord {
  unit: string;
  hash: string;
  desired: AssignedState;
}

/** P/states/<unit>/<machine> */
export interface UnitStateRecord {
  unit: string;
  machineId: string;
  hash: string;
  load: string;
  active: string;
  sub: string;
  /** The assignment state the agent has carried out (fleet's job-state). */
  applied: AssignedState;
}

/**
 * One unit content in an offer. Hosts judge content, not names: every unit
 * with this content gets the same verdict, unless the verdict can depend on
 * the unit name (specifiers, see src/unit/host-judgement.ts); then `names`
 * lists the units the host must judge one by one.
 */
export interface OfferedContent {
  hash: string;
  /** How many units with this content the round offers (for logs and humans). */
  units: number;
  /**
   * Whether the content has anything for a host to check (MachineMetadata,
   * Condition/Assert lines). If not, every host accepts it without reading it.
   */
  hostChecks: boolean;
  /** Present only for checked content whose verdict depends on the unit name. */
  names?: string[];
}

/** P/offers/<round> */
export interface OfferRecord {
  round: string;
  contents: OfferedContent[];
}

/** P/bids/<round>/<machine> */
export interface BidRecord {
  round: string;
  machineId: string;
  /**
   * Offered contents this host refuses (hash -> reason, shown to users): every
   * offered unit with that content. Everything not refused is accepted, so
   * bids stay small when hosts are alike.
   */
  refuseContent: Record<string, string>;
  /** Units of name-dependent contents this host refuses (unit -> reason). */
  refuseUnit: Record<string, string>;
  /** Units this host runs now, global units included. */
  load: number;
  freeMemoryBytes: number;
}

/** Why the bid refuses this offered unit, or undefined if it accepts it. */
export function bidRefusal(bid: BidRecord, unit: string, hash: string): string | undefined {
  if (Object.hasOwn(bid.refuseUnit, unit)) return bid.refuseUnit[unit];
  return Object.hasOwn(bid.refuseContent, hash) ? bid.refuseContent[hash] : undefined;
}

/** P/unplaced/<unit>: the last round that could not place the unit, per machine. */
export interface UnplacedRecord {
  unit: string;
  hash: string;
  /** machineId -> why that machine cannot take it; '*' when no machine was live. */
  reasons: Record<string, string>;
  /** ISO time of the round. */
  at: string;
}

type Json = Record<string, unknown>;

function obj(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const strRecord = (v: unknown): v is Record<string, string> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as Json).every(str);
const isAssigned = (v: unknown): v is AssignedState => v === 'loaded' || v === 'launched';

export function encode(record: object): string {
  return JSON.stringify(record);
}

export function decodeUnit(text: string): UnitRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.name) || !str(o.hash) || !isDesiredState(o.desired)) return undefined;
  return { name: o.name, hash: o.hash, desired: o.desired };
}

export function decodeMachine(text: string): MachineRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.id) || !str(o.publicIP) || !strRecord(o.metadata)) return undefined;
  const m: MachineRecord = { id: o.id, publicIP: o.publicIP, metadata: o.metadata, version: str(o.version) ? o.version : '' };
  if (typeof o.ttlSeconds === 'number' && o.ttlSeconds > 0) m.ttlSeconds = o.ttlSeconds;
  if (Number.isInteger(o.sshPort) && (o.sshPort as number) > 0 && (o.sshPort as number) < 65536) m.sshPort = o.sshPort as number;
  if (o.systemdScope === 'system' || o.systemdScope === 'user') m.systemdScope = o.systemdScope;
  return m;
}

export function decodeAssignment(text: string): AssignmentRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.unit) || !str(o.hash) || !isAssigned(o.desired)) return undefined;
  return { unit: o.unit, hash: o.hash, desired: o.desired };
}

export function decodeUnitState(text: string): UnitStateRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.unit) || !str(o.machineId) || !str(o.hash) || !str(o.load) || !str(o.active) || !str(o.sub)) {
    return undefined;
  }
  if (!isAssigned(o.applied)) return undefined;
  return { unit: o.unit, machineId: o.machineId, hash: o.hash, load: o.load, active: o.active, sub: o.sub, applied: o.applied };
}

export function decodeOffer(text: string): OfferRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.round) || !Array.isArray(o.contents)) return undefined;
  const contents: OfferedContent[] = [];
  for (const c of o.contents as unknown[]) {
    const r = c as Json | null;
    if (!r || typeof r !== 'object' || !str(r.hash) || typeof r.units !== 'number' || typeof r.hostChecks !== 'boolean') return undefined;
    const entry: OfferedContent = { hash: r.hash, units: r.units, hostChecks: r.hostChecks };
    if (r.names !== undefined) {
      if (!Array.isArray(r.names) || !r.names.every(str)) return undefined;
      entry.names = r.names;
    }
    contents.push(entry);
  }
  return { round: o.round, contents };
}

export function decodeBid(text: string): BidRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.round) || !str(o.machineId) || !strRecord(o.refuseContent) || !strRecord(o.refuseUnit)) return undefined;
  if (typeof o.load !== 'number' || typeof o.freeMemoryBytes !== 'number') return undefined;
  return {
    round: o.round,
    machineId: o.machineId,
    refuseContent: o.refuseContent,
    refuseUnit: o.refuseUnit,
    load: o.load,
    freeMemoryBytes: o.freeMemoryBytes,
  };
}

export function decodeUnplaced(text: string): UnplacedRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.unit) || !str(o.hash) || !strRecord(o.reasons) || !str(o.at)) return undefined;
  return { unit: o.unit, hash: o.hash, reasons: o.reasons, at: o.at };
}
