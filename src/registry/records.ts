/**
 * The values stored under the keys in keys.ts, and their codecs. Values read
 * from etcd are untrusted (anyone with etcd access can write them), so every
 * decoder checks the shape and returns undefined for garbage instead of
 * throwing deep inside a watch handler: unit names pass the same validation
 * as at submit (they become file names on hosts), hashes and machine ids
 * their exact form, and every number a range (a TTL of 1e12 s, or a timer
 * over 2^31 ms, which Node fires at once, must never reach a component).
 * Texts meant for people (reasons) are cut to a bounded length.
 */
import { isValidUnitName } from '../unit/name.js';

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
  /** The content this machine must run (during a rolling replace, hosts of one global unit may differ). */
  hash: string;
  desired: AssignedState;
  /**
   * What the engine already knows of the content's [X-Fleet] section, so the
   * agent need not parse it to act: `Global=` and `OnDisconnect=`. Absent in
   * assignments written by engines before these fields existed: the agent
   * then reads them from the content, as it did.
   */
  traits?: AssignmentTraits;
}

export interface AssignmentTraits {
  global: boolean;
  onDisconnect: 'keep' | 'stop';
}

/** P/states/<unit>/<machine> */
export interface UnitStateRecord {
  unit: string;
  machineId: string;
  hash: string;
  load: string;
  active: string;
  sub: string;
  /** The assignment state the agent has acted on (fleet's job-state). */
  applied: AssignedState;
  /**
   * Why the agent could not carry out this assignment (fetch, write, link,
   * reload, start or stop failed), or why systemd's start job for it failed.
   * Absent while all is well; cleared once an attempt succeeds (or systemd
   * reports the unit active again). Agents before this field never set it.
   */
  failure?: string;
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

/** 40 lowercase hex digits: the SHA-1 of a unit's serialized content (UnitFile.hash). */
export const CONTENT_HASH = /^[0-9a-f]{40}$/;
/** 32 lowercase hex digits: systemd's machine-id form, as flotillad's config requires. */
export const MACHINE_ID = /^[0-9a-f]{32}$/;
/** Round ids the engine writes (`<revision>-<seq>`); anything short and key-safe is accepted. */
const ROUND_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The longest agent lease TTL a machine may advertise (flotillad's agent_ttl allows 2-3600 s). */
export const TTL_SECONDS_MAX = 3600;
/** Bounds of the numbers in bids and offers: far above any real cluster, far below trouble. */
export const UNITS_PER_MACHINE_MAX = 1_000_000;
export const OFFER_UNITS_MAX = 10_000_000;
/** Reasons and failures are for people: longer texts are cut to this many characters. */
export const REASON_MAX = 1024;

export const isContentHash = (v: unknown): v is string => typeof v === 'string' && CONTENT_HASH.test(v);
export const isMachineId = (v: unknown): v is string => typeof v === 'string' && MACHINE_ID.test(v);

/** A reason text cut to REASON_MAX characters (an ellipsis marks the cut). */
export function boundedReason(text: string): string {
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 1)}…`;
}

function obj(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const strRecord = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every(str);
const isAssigned = (v: unknown): v is AssignedState => v === 'loaded' || v === 'launched';
const intIn = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** A map of reasons whose keys all pass `key`, reasons cut to REASON_MAX; undefined if any key fails. */
function reasonMap(v: unknown, key: (k: string) => boolean): Record<string, string> | undefined {
  if (!strRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, reason] of Object.entries(v)) {
    if (!key(k)) return undefined;
    out[k] = boundedReason(reason);
  }
  return out;
}

export function encode(record: object): string {
  return JSON.stringify(record);
}

export function decodeUnit(text: string): UnitRecord | undefined {
  const o = obj(text);
  if (!o || !isValidUnitName(o.name) || !isContentHash(o.hash) || !isDesiredState(o.desired)) return undefined;
  return { name: o.name, hash: o.hash, desired: o.desired };
}

export function decodeMachine(text: string): MachineRecord | undefined {
  const o = obj(text);
  if (!o || !isMachineId(o.id) || !str(o.publicIP) || !strRecord(o.metadata)) return undefined;
  const m: MachineRecord = { id: o.id, publicIP: o.publicIP, metadata: o.metadata, version: str(o.version) ? o.version : '' };
  // Clamped, not dropped: a machine whose TTL is unknown is assumed to have a short one,
  // which would let the engine re-place its OnDisconnect=stop units too early.
  if (typeof o.ttlSeconds === 'number' && o.ttlSeconds > 0) m.ttlSeconds = Math.min(o.ttlSeconds, TTL_SECONDS_MAX);
  if (intIn(o.sshPort, 1, 65535)) m.sshPort = o.sshPort;
  if (o.systemdScope === 'system' || o.systemdScope === 'user') m.systemdScope = o.systemdScope;
  return m;
}

export function decodeAssignment(text: string): AssignmentRecord | undefined {
  const o = obj(text);
  if (!o || !isValidUnitName(o.unit) || !isContentHash(o.hash) || !isAssigned(o.desired)) return undefined;
  const a: AssignmentRecord = { unit: o.unit, hash: o.hash, desired: o.desired };
  if (o.traits !== undefined) {
    const t = o.traits as Json | null;
    if (!t || typeof t !== 'object' || typeof t.global !== 'boolean' || (t.onDisconnect !== 'keep' && t.onDisconnect !== 'stop')) return undefined;
    a.traits = { global: t.global, onDisconnect: t.onDisconnect };
  }
  return a;
}

export function decodeUnitState(text: string): UnitStateRecord | undefined {
  const o = obj(text);
  if (!o || !isValidUnitName(o.unit) || !isMachineId(o.machineId) || !str(o.load) || !str(o.active) || !str(o.sub)) {
    return undefined;
  }
  // Agents that leave the hash empty are trusted (see derive.ts).
  if (!(o.hash === '' || isContentHash(o.hash)) || !isAssigned(o.applied)) return undefined;
  if (o.failure !== undefined && !str(o.failure)) return undefined;
  const s: UnitStateRecord = { unit: o.unit, machineId: o.machineId, hash: o.hash as string, load: o.load, active: o.active, sub: o.sub, applied: o.applied };
  if (o.failure !== undefined && o.failure !== '') s.failure = boundedReason(o.failure);
  return s;
}

export function decodeOffer(text: string): OfferRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.round) || !ROUND_ID.test(o.round) || !Array.isArray(o.contents) || o.contents.length > OFFER_UNITS_MAX) return undefined;
  const contents: OfferedContent[] = [];
  for (const r of o.contents as unknown[]) {
    if (!isObject(r) || !isContentHash(r.hash) || !intIn(r.units, 0, OFFER_UNITS_MAX) || typeof r.hostChecks !== 'boolean') return undefined;
    const entry: OfferedContent = { hash: r.hash, units: r.units, hostChecks: r.hostChecks };
    if (r.names !== undefined) {
      if (!Array.isArray(r.names) || r.names.length > OFFER_UNITS_MAX || !r.names.every(isValidUnitName)) return undefined;
      entry.names = r.names;
    }
    contents.push(entry);
  }
  return { round: o.round, contents };
}

export function decodeBid(text: string): BidRecord | undefined {
  const o = obj(text);
  if (!o || !str(o.round) || !ROUND_ID.test(o.round) || !isMachineId(o.machineId)) return undefined;
  const refuseContent = reasonMap(o.refuseContent, isContentHash);
  const refuseUnit = reasonMap(o.refuseUnit, isValidUnitName);
  if (!refuseContent || !refuseUnit) return undefined;
  if (!intIn(o.load, 0, UNITS_PER_MACHINE_MAX) || !intIn(o.freeMemoryBytes, 0, Number.MAX_SAFE_INTEGER)) return undefined;
  return { round: o.round, machineId: o.machineId, refuseContent, refuseUnit, load: o.load, freeMemoryBytes: o.freeMemoryBytes };
}

/** Key of UnplacedRecord.reasons when no machine was live: written by the engine, read by the client. */
export const NO_LIVE_MACHINE = '*';

export function decodeUnplaced(text: string): UnplacedRecord | undefined {
  const o = obj(text);
  if (!o || !isValidUnitName(o.unit) || !isContentHash(o.hash) || !str(o.at) || o.at.length > 64) return undefined;
  const reasons = reasonMap(o.reasons, (k) => k === NO_LIVE_MACHINE || isMachineId(k));
  return reasons ? { unit: o.unit, hash: o.hash, reasons, at: o.at } : undefined;
}

// --- sources: directories of unit files in git (src/gitops) -----------------

export const SOURCE_MODES = ['push', 'pull'] as const;
/** push: applied by `flotctl sync DIR` from a work tree; pull: the engine follows a repository (`flotctl source add`). */
export type SourceMode = (typeof SOURCE_MODES)[number];

/** P/sources/<name>: where a source's units come from (written by flotctl). */
export interface SourceRecord {
  name: string;
  mode: SourceMode;
  /** The repository's identity (src/gitops/source-name.ts): "github.com/acme/infra", or a path. */
  repository: string;
  /** The directory inside the repository, "" for its top. */
  path: string;
  /** Pull mode: what the engine fetches, from which branch, how often, and whether it prunes. */
  url?: string;
  branch?: string;
  intervalMs?: number;
  prune?: boolean;
  /** ISO time the source was first defined. */
  createdAt: string;
}

/** A commit as applied: its id ("" for a plain directory) and whether the tree differed from it. */
export interface AppliedRevision {
  commit: string;
  dirty: boolean;
  /** ISO time. */
  at: string;
}

export const ROLLOUT_STATES = ['running', 'succeeded', 'failed', 'reverted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** Where a source's rollout is; written by whoever runs rollouts (the engine, once it does). */
export interface RolloutStatus {
  state: RolloutState;
  commit: string;
  done: number;
  total: number;
  /** The unit it stopped on, when it failed. */
  unit?: string;
  at: string;
}

/** P/source-status/<name>: what has been applied (flotctl sync for push sources; the engine for pull sources). */
export interface SourceStatusRecord {
  name: string;
  /** The last commit applied completely. */
  applied?: AppliedRevision;
  /**
   * A sync in several transactions, written by its first and removed by its
   * last: while present the source's units may be part old, part new (each
   * unit is written together with its inventory entry, so ownership is never
   * lost). Also the fence of a sync: every later step compares this key's
   * revision, so a second sync of the same source stops the first.
   */
  applying?: AppliedRevision & { steps: number };
  rollout?: RolloutStatus;
  /** The last failure to fetch or apply (pull mode), cleared by the next success. */
  error?: { message: string; at: string };
}

/**
 * P/inventory/<source>/<unit>: the source owns the unit (it created or
 * adopted it; only this key says so, never a name or a label) and the
 * unit's provenance: the content, commit and dirtiness of the sync that last
 * wrote it. Written in the same transaction as the unit itself.
 */
export interface InventoryRecord {
  source: string;
  unit: string;
  hash: string;
  commit: string;
  dirty: boolean;
  at: string;
}

const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})?$/;
const SHA1 = /^[0-9a-f]{40}$/;
const isCommitId = (v: unknown): v is string => typeof v === 'string' && COMMIT_ID.test(v);
const boundedStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isSourceName = (v: unknown): v is string => boundedStr(v, 200) && v !== '' && !v.includes('%');
const isUnitName = (v: unknown): v is string => boundedStr(v, 256) && v !== '' && !v.includes('/');
const count = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10_000_000;

function decodeApplied(v: unknown): AppliedRevision | undefined {
  const o = v as Json | null;
  if (!o || typeof o !== 'object' || !isCommitId(o.commit) || typeof o.dirty !== 'boolean' || !boundedStr(o.at, 64)) return undefined;
  return { commit: o.commit, dirty: o.dirty, at: o.at };
}

export function decodeSource(text: string): SourceRecord | undefined {
  const o = obj(text);
  if (!o || !isSourceName(o.name) || !(SOURCE_MODES as readonly unknown[]).includes(o.mode)) return undefined;
  if (!boundedStr(o.repository, 1024) || !boundedStr(o.path, 1024) || !boundedStr(o.createdAt, 64)) return undefined;
  const r: SourceRecord = { name: o.name, mode: o.mode as SourceMode, repository: o.repository, path: o.path, createdAt: o.createdAt };
  if (o.url !== undefined) {
    if (!boundedStr(o.url, 2048)) return undefined;
    r.url = o.url;
  }
  if (o.branch !== undefined) {
    if (!boundedStr(o.branch, 256)) return undefined;
    r.branch = o.branch;
  }
  if (o.intervalMs !== undefined) {
    if (!Number.isInteger(o.intervalMs) || (o.intervalMs as number) < 1000 || (o.intervalMs as number) > 2 ** 31 - 1) return undefined;
    r.intervalMs = o.intervalMs as number;
  }
  if (o.prune !== undefined) {
    if (typeof o.prune !== 'boolean') return undefined;
    r.prune = o.prune;
  }
  return r;
}

export function decodeSourceStatus(text: string): SourceStatusRecord | undefined {
  const o = obj(text);
  if (!o || !isSourceName(o.name)) return undefined;
  const s: SourceStatusRecord = { name: o.name };
  if (o.applied !== undefined) {
    const a = decodeApplied(o.applied);
    if (!a) return undefined;
    s.applied = a;
  }
  if (o.applying !== undefined) {
    const a = decodeApplied(o.applying);
    const steps = (o.applying as Json).steps;
    if (!a || !count(steps)) return undefined;
    s.applying = { ...a, steps };
  }
  if (o.rollout !== undefined) {
    const r = o.rollout as Json | null;
    if (!r || typeof r !== 'object' || !(ROLLOUT_STATES as readonly unknown[]).includes(r.state) || !isCommitId(r.commit)) return undefined;
    if (!count(r.done) || !count(r.total) || !boundedStr(r.at, 64) || (r.unit !== undefined && !isUnitName(r.unit))) return undefined;
    s.rollout = { state: r.state as RolloutState, commit: r.commit, done: r.done, total: r.total, at: r.at };
    if (r.unit !== undefined) s.rollout.unit = r.unit as string;
  }
  if (o.error !== undefined) {
    const e = o.error as Json | null;
    if (!e || typeof e !== 'object' || !str(e.message) || !boundedStr(e.at, 64)) return undefined;
    // For people: cut, not refused.
    s.error = { message: e.message.length > 1024 ? `${e.message.slice(0, 1023)}…` : e.message, at: e.at };
  }
  return s;
}

export function decodeInventory(text: string): InventoryRecord | undefined {
  const o = obj(text);
  if (!o || !isSourceName(o.source) || !isUnitName(o.unit) || typeof o.hash !== 'string' || !SHA1.test(o.hash)) return undefined;
  if (!isCommitId(o.commit) || typeof o.dirty !== 'boolean' || !boundedStr(o.at, 64)) return undefined;
  return { source: o.source, unit: o.unit, hash: o.hash, commit: o.commit, dirty: o.dirty, at: o.at };
}

// --- rollouts: a rolling replace in progress (src/rollout) ------------------

export const ROLLOUT_UNIT_PHASES = ['pending', 'inflight', 'done', 'failed', 'reverted'] as const;
export type RolloutUnitPhase = (typeof ROLLOUT_UNIT_PHASES)[number];
export const ROLLOUT_RUN_STATES = ['running', 'done', 'failed'] as const;
export type RolloutRunState = (typeof ROLLOUT_RUN_STATES)[number];

/** One unit of a rollout: the content it goes to, the one it had, and where it is. */
export interface RolloutUnitRecord {
  name: string;
  hash: string;
  /** The content before this rollout: what --auto-revert puts back. */
  previousHash?: string;
  phase: RolloutUnitPhase;
  /** When the replacement was written (ms since epoch). */
  startedAt?: number;
  /** Since when every host runs the new content healthily. */
  healthySince?: number;
  reason?: string;
  /**
   * A global unit rolls host by host: its hosts when it went in flight, each
   * with its own phase. A host still `pending` (or `reverted`) keeps
   * `previousHash` in its assignment while the record is running or failed
   * (src/rollout/pins.ts): the unit runs two contents at once meanwhile.
   * Absent for a unit that is not global (one step for the unit).
   */
  hosts?: RolloutHostRecord[];
}

/** One host of a global unit in a rollout. */
export interface RolloutHostRecord {
  machineId: string;
  phase: RolloutUnitPhase;
  startedAt?: number;
  healthySince?: number;
}

/** The pacing a rollout was started with (src/rollout/options.ts). */
export interface RolloutPacing {
  maxParallel: number;
  minHealthyMs: number;
  healthyDeadlineMs: number;
  autoRevert: boolean;
}

/**
 * P/rollouts/<source>: a rolling replace, its whole progress. Started by
 * whoever syncs, driven by the engine (each pass rewrites it in the same
 * fenced transaction as the unit records it changes), so a new leader
 * resumes from this record alone.
 */
export interface RolloutRecord {
  source: string;
  commit: string;
  opts: RolloutPacing;
  state: RolloutRunState;
  units: RolloutUnitRecord[];
  error?: string;
}

/** Units in one rollout: one source's worth. */
export const ROLLOUT_UNITS_MAX = 10_000;
/** Hosts of one global unit in a rollout: far above any real cluster. */
export const ROLLOUT_HOSTS_MAX = 10_000;
const MS_MAX = 2 ** 31 - 1;
const isTime = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= Number.MAX_SAFE_INTEGER;

function decodePacing(v: unknown): RolloutPacing | undefined {
  if (!isObject(v)) return undefined;
  if (!intIn(v.maxParallel, 1, ROLLOUT_UNITS_MAX) || !intIn(v.minHealthyMs, 0, MS_MAX) || !intIn(v.healthyDeadlineMs, 1, MS_MAX) || typeof v.autoRevert !== 'boolean') return undefined;
  return { maxParallel: v.maxParallel, minHealthyMs: v.minHealthyMs, healthyDeadlineMs: v.healthyDeadlineMs, autoRevert: v.autoRevert };
}

function decodeRolloutUnit(v: unknown): RolloutUnitRecord | undefined {
  if (!isObject(v) || !isValidUnitName(v.name) || !isContentHash(v.hash) || !(ROLLOUT_UNIT_PHASES as readonly unknown[]).includes(v.phase)) return undefined;
  const u: RolloutUnitRecord = { name: v.name, hash: v.hash, phase: v.phase as RolloutUnitPhase };
  if (v.previousHash !== undefined) {
    if (!isContentHash(v.previousHash)) return undefined;
    u.previousHash = v.previousHash;
  }
  for (const f of ['startedAt', 'healthySince'] as const) {
    if (v[f] === undefined) continue;
    if (!isTime(v[f])) return undefined;
    u[f] = v[f] as number;
  }
  if (v.reason !== undefined) {
    if (!str(v.reason)) return undefined;
    u.reason = boundedReason(v.reason);
  }
  if (v.hosts !== undefined) {
    // A host list without a content to keep on pending hosts means nothing.
    if (!Array.isArray(v.hosts) || v.hosts.length > ROLLOUT_HOSTS_MAX || u.previousHash === undefined) return undefined;
    const hosts: RolloutHostRecord[] = [];
    const seen = new Set<string>();
    for (const raw of v.hosts as unknown[]) {
      const h = decodeRolloutHost(raw);
      if (!h || seen.has(h.machineId)) return undefined;
      seen.add(h.machineId);
      hosts.push(h);
    }
    u.hosts = hosts;
  }
  return u;
}

function decodeRolloutHost(v: unknown): RolloutHostRecord | undefined {
  if (!isObject(v) || !isMachineId(v.machineId) || !(ROLLOUT_UNIT_PHASES as readonly unknown[]).includes(v.phase)) return undefined;
  const h: RolloutHostRecord = { machineId: v.machineId, phase: v.phase as RolloutUnitPhase };
  for (const f of ['startedAt', 'healthySince'] as const) {
    if (v[f] === undefined) continue;
    if (!isTime(v[f])) return undefined;
    h[f] = v[f] as number;
  }
  return h;
}

export function decodeRollout(text: string): RolloutRecord | undefined {
  const o = obj(text);
  if (!o || !isSourceName(o.source) || !isCommitId(o.commit) || !(ROLLOUT_RUN_STATES as readonly unknown[]).includes(o.state)) return undefined;
  const opts = decodePacing(o.opts);
  if (!opts || !Array.isArray(o.units) || o.units.length > ROLLOUT_UNITS_MAX) return undefined;
  const units: RolloutUnitRecord[] = [];
  const names = new Set<string>();
  for (const raw of o.units as unknown[]) {
    const u = decodeRolloutUnit(raw);
    if (!u || names.has(u.name)) return undefined;
    names.add(u.name);
    units.push(u);
  }
  const r: RolloutRecord = { source: o.source, commit: o.commit, opts, state: o.state as RolloutRunState, units };
  if (o.error !== undefined) {
    if (!str(o.error)) return undefined;
    r.error = boundedReason(o.error);
  }
  return r;
}
