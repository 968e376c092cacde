/**
 * The values stored under the keys in keys.ts, and their codecs: each record
 * is one schema (valibot) from which both its type and its decoder come, so
 * the shape a component is typed against is the shape it was checked
 * against. Values read from etcd are untrusted (anyone with etcd access can
 * write them), so every decoder checks the shape and returns undefined for
 * garbage instead of throwing deep inside a watch handler: unit names pass
 * the same validation as at submit (they become file names on hosts), hashes
 * and machine ids their exact form, and every number a range (a TTL of 1e12
 * s, or a timer over 2^31 ms, which Node fires at once, must never reach a
 * component). Unknown fields are dropped; texts meant for people (reasons)
 * are cut to a bounded length.
 *
 * valibot rather than hand-written checks or zod: one definition per record
 * instead of an interface and a decoder kept in step by hand; valibot is
 * modular (flotctl's bundle carries only the checks used) and loads in a
 * fraction of zod's time, which matters to a CLI whose target is 2x a bare
 * `node -e 0` (import, unbundled, on this machine: valibot 12 ms, zod/mini
 * 47 ms). Decoding 50,000 unit records costs 40 ms against 25 ms by hand.
 */
import * as v from 'valibot';
import { isValidUnitName } from '../unit/name.js';

export const DESIRED_STATES = ['inactive', 'loaded', 'launched'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];
/** What an agent is told to do with an assigned unit. */
export type AssignedState = Exclude<DesiredState, 'inactive'>;
const ASSIGNED_STATES = ['loaded', 'launched'] as const satisfies readonly AssignedState[];

export function isDesiredState(v: unknown): v is DesiredState {
  return typeof v === 'string' && (DESIRED_STATES as readonly string[]).includes(v);
}

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

// --- the pieces records are made of -----------------------------------------

const intIn = (x: unknown, min: number, max: number): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
const unitName = v.custom<string>(isValidUnitName);
const contentHash = v.custom<string>(isContentHash);
const machineId = v.custom<string>(isMachineId);
const roundId = v.custom<string>((x) => typeof x === 'string' && ROUND_ID.test(x));
const int = (min: number, max: number) => v.custom<number>((x) => intIn(x, min, max));
const boundedString = (max: number) => v.custom<string>((x) => typeof x === 'string' && x.length <= max);
/** A text for people: any string, cut to REASON_MAX. */
const reason = v.pipe(v.string(), v.transform(boundedReason));
/** Reasons keyed by what they are about (a content, a unit, a machine); one bad key refuses the whole map. */
const reasonsBy = (key: (k: string) => boolean) => v.record(v.custom<string>((k) => typeof k === 'string' && key(k)), reason);
/** A field that is dropped, not refused, when it is malformed (older or newer writers). */
const lenient = <S extends v.GenericSchema>(schema: S) => v.optional(v.fallback(v.optional(schema), undefined));

/** Drops keys a lenient field left undefined, so a decoded record has only what it holds. */
function withoutUndefined<T extends object>(record: T): T {
  for (const k of Object.keys(record) as Array<keyof T>) if (record[k] === undefined) delete record[k];
  return record;
}

/** A decoder for one record: JSON text in, the schema's output or undefined out. */
function decoder<S extends v.GenericSchema>(schema: S): (text: string) => v.InferOutput<S> | undefined {
  return (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    const r = v.safeParse(schema, parsed, { abortEarly: true });
    return r.success ? r.output : undefined;
  };
}

export function encode(record: object): string {
  return JSON.stringify(record);
}

// --- units, machines, assignments, states -------------------------------------

/** P/units/<name> */
const unitSchema = v.object({
  name: unitName,
  hash: contentHash,
  desired: v.picklist(DESIRED_STATES),
});
export type UnitRecord = v.InferOutput<typeof unitSchema>;
export const decodeUnit = decoder(unitSchema);

export type SystemdScope = 'system' | 'user';

/** P/machines/<id> */
const machineSchema = v.pipe(
  v.object({
    id: machineId,
    publicIP: v.string(),
    /**
     * Metadata from the machine's config; dynamic metadata lives in its own keys. Checked, not
     * rebuilt: v.record drops keys named constructor or prototype, which are a user's to choose.
     */
    metadata: v.custom<Record<string, string>>((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((s) => typeof s === 'string')),
    version: v.fallback(v.optional(v.string(), ''), ''),
    /**
     * The agent's lease TTL: how long after its last renewal the machine may
     * still be running units. Clamped, not dropped: a machine whose TTL is
     * unknown is assumed to have a short one, which would let the engine
     * re-place its OnDisconnect=stop units too early.
     */
    ttlSeconds: lenient(v.pipe(v.custom<number>((x) => typeof x === 'number' && x > 0), v.transform((x) => Math.min(x, TTL_SECONDS_MAX)))),
    /** Where the host's sshd listens, for flotctl status/journal/ssh; absent means 22. */
    sshPort: lenient(int(1, 65535)),
    /** Which systemd the agent drives: `systemctl --user` is needed to reach a user manager remotely. */
    systemdScope: lenient(v.picklist(['system', 'user'] as const satisfies readonly SystemdScope[])),
  }),
  v.transform(withoutUndefined),
);
export type MachineRecord = v.InferOutput<typeof machineSchema>;
export const decodeMachine = decoder(machineSchema);

/**
 * What the engine already knows of the content's [X-Fleet] section, so the
 * agent need not parse it to act: `Global=` and `OnDisconnect=`.
 */
const assignmentTraitsSchema = v.object({
  global: v.boolean(),
  onDisconnect: v.picklist(['keep', 'stop']),
});
export type AssignmentTraits = v.InferOutput<typeof assignmentTraitsSchema>;

/** P/assignments/<machine>/<unit> */
const assignmentSchema = v.object({
  unit: unitName,
  /** The content this machine must run (during a rolling replace, hosts of one global unit may differ). */
  hash: contentHash,
  desired: v.picklist(ASSIGNED_STATES),
  /** Absent in assignments written by engines before it existed: the agent then reads the traits from the content. */
  traits: v.optional(assignmentTraitsSchema),
});
export type AssignmentRecord = v.InferOutput<typeof assignmentSchema>;
export const decodeAssignment = decoder(assignmentSchema);

/** P/states/<unit>/<machine> */
const unitStateSchema = v.pipe(
  v.object({
    unit: unitName,
    machineId,
    /** Agents that leave the hash empty are trusted (see derive.ts). */
    hash: v.custom<string>((x) => x === '' || isContentHash(x)),
    load: v.string(),
    active: v.string(),
    sub: v.string(),
    /** The assignment state the agent has acted on (fleet's job-state). */
    applied: v.picklist(ASSIGNED_STATES),
    /**
     * Why the agent could not carry out this assignment (fetch, write, link,
     * reload, start or stop failed), or why systemd's start job for it failed.
     * Absent while all is well (an empty text counts as absent); cleared once
     * an attempt succeeds (or systemd reports the unit active again).
     */
    failure: v.optional(v.pipe(v.string(), v.transform((t) => (t === '' ? undefined : boundedReason(t))))),
  }),
  v.transform(withoutUndefined),
);
export type UnitStateRecord = v.InferOutput<typeof unitStateSchema>;
export const decodeUnitState = decoder(unitStateSchema);

// --- offers, bids, unplaced units ----------------------------------------------

/**
 * One unit content in an offer. Hosts judge content, not names: every unit
 * with this content gets the same verdict, unless the verdict can depend on
 * the unit name (specifiers, see src/unit/host-judgement.ts); then `names`
 * lists the units the host must judge one by one.
 */
const offeredContentSchema = v.object({
  hash: contentHash,
  /** How many units with this content the round offers (for logs and humans). */
  units: int(0, OFFER_UNITS_MAX),
  /**
   * Whether the content has anything for a host to check (MachineMetadata,
   * Condition/Assert lines). If not, every host accepts it without reading it.
   */
  hostChecks: v.boolean(),
  /** Present only for checked content whose verdict depends on the unit name. */
  names: v.optional(v.pipe(v.array(unitName), v.maxLength(OFFER_UNITS_MAX))),
});
export type OfferedContent = v.InferOutput<typeof offeredContentSchema>;

/** P/offers/<round> */
const offerSchema = v.object({
  round: roundId,
  contents: v.pipe(v.array(offeredContentSchema), v.maxLength(OFFER_UNITS_MAX)),
});
export type OfferRecord = v.InferOutput<typeof offerSchema>;
export const decodeOffer = decoder(offerSchema);

/** P/bids/<round>/<machine> */
const bidSchema = v.object({
  round: roundId,
  machineId,
  /**
   * Offered contents this host refuses (hash -> reason, shown to users): every
   * offered unit with that content. Everything not refused is accepted, so
   * bids stay small when hosts are alike.
   */
  refuseContent: reasonsBy(isContentHash),
  /** Units of name-dependent contents this host refuses (unit -> reason). */
  refuseUnit: reasonsBy(isValidUnitName),
  /** Units this host runs now, global units included. */
  load: int(0, UNITS_PER_MACHINE_MAX),
  freeMemoryBytes: int(0, Number.MAX_SAFE_INTEGER),
});
export type BidRecord = v.InferOutput<typeof bidSchema>;
export const decodeBid = decoder(bidSchema);

/** Why the bid refuses this offered unit, or undefined if it accepts it. */
export function bidRefusal(bid: BidRecord, unit: string, hash: string): string | undefined {
  if (Object.hasOwn(bid.refuseUnit, unit)) return bid.refuseUnit[unit];
  return Object.hasOwn(bid.refuseContent, hash) ? bid.refuseContent[hash] : undefined;
}

/** Key of UnplacedRecord.reasons when no machine was live: written by the engine, read by the client. */
export const NO_LIVE_MACHINE = '*';

/** P/unplaced/<unit>: the last round that could not place the unit, per machine. */
const unplacedSchema = v.object({
  unit: unitName,
  hash: contentHash,
  /** machineId -> why that machine cannot take it; '*' when no machine was live. */
  reasons: reasonsBy((k) => k === NO_LIVE_MACHINE || isMachineId(k)),
  /** ISO time of the round. */
  at: boundedString(64),
});
export type UnplacedRecord = v.InferOutput<typeof unplacedSchema>;
export const decodeUnplaced = decoder(unplacedSchema);

// --- sources: directories of unit files in git (src/gitops) -----------------

export const SOURCE_MODES = ['push', 'pull'] as const;
/** push: applied by `flotctl sync DIR` from a work tree; pull: the engine follows a repository (`flotctl source add`). */
export type SourceMode = (typeof SOURCE_MODES)[number];

const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})?$/;
const commitId = v.custom<string>((x) => typeof x === 'string' && COMMIT_ID.test(x));
const sourceName = v.custom<string>((x) => typeof x === 'string' && x.length <= 200 && x !== '' && !x.includes('%'));
/** Unit names as sources record them: bounded and key-safe (the full check is at sync). */
const sourceUnitName = v.custom<string>((x) => typeof x === 'string' && x.length <= 256 && x !== '' && !x.includes('/'));
const count = int(0, 10_000_000);
const isoTime = boundedString(64);

/** P/sources/<name>: where a source's units come from (written by flotctl). */
const sourceSchema = v.object({
  name: sourceName,
  mode: v.picklist(SOURCE_MODES),
  /** The repository's identity (src/gitops/source-name.ts): "github.com/acme/infra", or a path. */
  repository: boundedString(1024),
  /** The directory inside the repository, "" for its top. */
  path: boundedString(1024),
  /** ISO time the source was first defined. */
  createdAt: isoTime,
  /** Pull mode: what the engine fetches, from which branch, how often, and whether it prunes. */
  url: v.optional(boundedString(2048)),
  branch: v.optional(boundedString(256)),
  intervalMs: v.optional(int(1000, 2 ** 31 - 1)),
  prune: v.optional(v.boolean()),
});
export type SourceRecord = v.InferOutput<typeof sourceSchema>;
export const decodeSource = decoder(sourceSchema);

/** A commit as applied: its id ("" for a plain directory) and whether the tree differed from it. */
const appliedEntries = { commit: commitId, dirty: v.boolean(), at: isoTime };
const appliedSchema = v.object(appliedEntries);
export type AppliedRevision = v.InferOutput<typeof appliedSchema>;

export const ROLLOUT_STATES = ['running', 'succeeded', 'failed', 'reverted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** Where a source's rollout is; written by whoever runs rollouts. */
const rolloutStatusSchema = v.object({
  state: v.picklist(ROLLOUT_STATES),
  commit: commitId,
  done: count,
  total: count,
  at: isoTime,
  /** The unit it stopped on, when it failed. */
  unit: v.optional(sourceUnitName),
});
export type RolloutStatus = v.InferOutput<typeof rolloutStatusSchema>;

/** P/source-status/<name>: what has been applied (flotctl sync for push sources; the engine for pull sources). */
const sourceStatusSchema = v.object({
  name: sourceName,
  /** The last commit applied completely. */
  applied: v.optional(appliedSchema),
  /**
   * A sync in several transactions, written by its first and removed by its
   * last: while present the source's units may be part old, part new (each
   * unit is written together with its inventory entry, so ownership is never
   * lost). Also the fence of a sync: every later step compares this key's
   * revision, so a second sync of the same source stops the first.
   */
  applying: v.optional(v.object({ ...appliedEntries, steps: count })),
  rollout: v.optional(rolloutStatusSchema),
  /** The last failure to fetch or apply (pull mode), cleared by the next success; for people: cut, not refused. */
  error: v.optional(v.object({ message: reason, at: isoTime })),
});
export type SourceStatusRecord = v.InferOutput<typeof sourceStatusSchema>;
export const decodeSourceStatus = decoder(sourceStatusSchema);

/**
 * P/inventory/<source>/<unit>: the source owns the unit (it created or
 * adopted it; only this key says so, never a name or a label) and the
 * unit's provenance: the content, commit and dirtiness of the sync that last
 * wrote it. Written in the same transaction as the unit itself.
 */
const inventorySchema = v.object({
  source: sourceName,
  unit: sourceUnitName,
  hash: contentHash,
  commit: commitId,
  dirty: v.boolean(),
  at: isoTime,
});
export type InventoryRecord = v.InferOutput<typeof inventorySchema>;
export const decodeInventory = decoder(inventorySchema);

// --- rollouts: a rolling replace in progress (src/rollout) ------------------

export const ROLLOUT_UNIT_PHASES = ['pending', 'inflight', 'done', 'failed', 'reverted'] as const;
export type RolloutUnitPhase = (typeof ROLLOUT_UNIT_PHASES)[number];
export const ROLLOUT_RUN_STATES = ['running', 'done', 'failed'] as const;
export type RolloutRunState = (typeof ROLLOUT_RUN_STATES)[number];

/** Units in one rollout: one source's worth. */
export const ROLLOUT_UNITS_MAX = 10_000;
/** Hosts of one global unit in a rollout: far above any real cluster. */
export const ROLLOUT_HOSTS_MAX = 10_000;
const MS_MAX = 2 ** 31 - 1;
/** A time in ms since the epoch. */
const time = int(0, Number.MAX_SAFE_INTEGER);
const unique = (keys: string[]): boolean => new Set(keys).size === keys.length;

/** One host of a global unit in a rollout. */
const rolloutHostSchema = v.object({
  machineId,
  phase: v.picklist(ROLLOUT_UNIT_PHASES),
  startedAt: v.optional(time),
  healthySince: v.optional(time),
});
export type RolloutHostRecord = v.InferOutput<typeof rolloutHostSchema>;

/** One unit of a rollout: the content it goes to, the one it had, and where it is. */
const rolloutUnitSchema = v.pipe(
  v.object({
    name: unitName,
    hash: contentHash,
    phase: v.picklist(ROLLOUT_UNIT_PHASES),
    /** The content before this rollout: what --auto-revert puts back. */
    previousHash: v.optional(contentHash),
    /** When the replacement was written (ms since epoch). */
    startedAt: v.optional(time),
    /** Since when every host runs the new content healthily. */
    healthySince: v.optional(time),
    reason: v.optional(reason),
    /**
     * A global unit rolls host by host: its hosts when it went in flight, each
     * with its own phase. A host still `pending` (or `reverted`) keeps
     * `previousHash` in its assignment while the record is running or failed
     * (src/rollout/pins.ts): the unit runs two contents at once meanwhile.
     * Absent for a unit that is not global (one step for the unit).
     */
    hosts: v.optional(v.pipe(v.array(rolloutHostSchema), v.maxLength(ROLLOUT_HOSTS_MAX), v.check((hs) => unique(hs.map((h) => h.machineId))))),
  }),
  // A host list without a content to keep on pending hosts means nothing.
  v.check((u) => u.hosts === undefined || u.previousHash !== undefined),
);
export type RolloutUnitRecord = v.InferOutput<typeof rolloutUnitSchema>;

/** The pacing a rollout was started with (src/rollout/options.ts). */
const pacingSchema = v.object({
  maxParallel: int(1, ROLLOUT_UNITS_MAX),
  minHealthyMs: int(0, MS_MAX),
  healthyDeadlineMs: int(1, MS_MAX),
  autoRevert: v.boolean(),
});
export type RolloutPacing = v.InferOutput<typeof pacingSchema>;

/**
 * P/rollouts/<source>: a rolling replace, its whole progress. Started by
 * whoever syncs, driven by the engine (each pass rewrites it in the same
 * fenced transaction as the unit records it changes), so a new leader
 * resumes from this record alone.
 */
const rolloutSchema = v.object({
  source: sourceName,
  commit: commitId,
  opts: pacingSchema,
  state: v.picklist(ROLLOUT_RUN_STATES),
  units: v.pipe(v.array(rolloutUnitSchema), v.maxLength(ROLLOUT_UNITS_MAX), v.check((us) => unique(us.map((u) => u.name)))),
  error: v.optional(reason),
});
export type RolloutRecord = v.InferOutput<typeof rolloutSchema>;
export const decodeRollout = decoder(rolloutSchema);
