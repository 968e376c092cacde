/**
 * The engine's watch-fed picture of the cluster: units, live machines, their
 * dynamic metadata and assignments, plus parsed requirements per content
 * hash (contents are immutable, so each hash is fetched and parsed once).
 */
import { Keys } from '../registry/keys.js';
import type { Change, PrefixCache } from '../registry/prefix-cache.js';
import type { AssignmentRecord, BidRecord, MachineRecord, RolloutRecord, UnitRecord } from '../registry/records.js';
import { pinnedHash, rolloutPins, type RolloutPins } from '../rollout/pins.js';
import { assignmentKeyOf } from '../registry/records-at.js';
import { mergeMetadata } from '../registry/metadata-overlay.js';
import { TXN_MAX_OPS, type Registry } from '../registry/registry.js';
import { EngineStore } from '../registry/engine-store.js';
import { ReplaceGraph } from '../scheduler/index.js';
import {
  type UnitFile,
  needsHostJudgement,
  overLimitReason,
  parseRequirements,
  readStoredUnit,
  requirementsProblem,
  verdictDependsOnName,
  type UnitRequirements,
} from '../unit/index.js';
import type { Logger } from '../util/log.js';
import type { EngineView, HostJudgement, MalformedAssignment, PlacedEntry, RequirementsResult, SnapshotSource } from './engine-view.js';

export type { HostJudgement, PlacedEntry, RequirementsResult } from './engine-view.js';
import { errorMessage } from '../util/errors.js';

export type Source = 'units' | 'machines' | 'metadata' | 'assignments' | 'bids' | 'rollouts';

/** Assumed for machines that did not say (older agents). */
const DEFAULT_TTL_SECONDS = 10;
/**
 * Grace after a lease expiry before an OnDisconnect=stop unit is placed
 * again, as a fraction of the host's TTL. The host's own switch fires at
 * FENCE_DEADLINE_FRACTION (0.75) x TTL after its last renewal, i.e. at least
 * 0.25 x TTL before the lease can expire; with this grace the old copy has
 * 0.85 x TTL to be stopped before a new one is started.
 */
export const GRACE_FRACTION = 0.6;

export class ClusterState implements EngineView, SnapshotSource {
  readonly units: PrefixCache<UnitRecord>;
  readonly machines: PrefixCache<MachineRecord>;
  readonly assignments: PrefixCache<AssignmentRecord>;
  readonly bids: PrefixCache<BidRecord>;
  /** P/rollouts/<source>: which hosts of a global unit a rollout keeps on the previous content. */
  readonly rollouts: PrefixCache<RolloutRecord>;
  /** rolloutPins of the rollouts cache, rebuilt when it changes. */
  private pins: RolloutPins | undefined;
  /** P/metadata/<machine>/<key>: raw values; '' is a tombstone hiding a config key. */
  readonly metadata: PrefixCache<string>;
  /** Range reads of unit contents made so far (an etcd request count for the engine's stats). */
  contentReads = 0;
  /** By unit name, for one hash: specifiers (%i, %n) make requirements name-dependent. */
  private readonly requirements = new Map<string, { hash: string; result: RequirementsResult }>();
  private readonly files = new Map<string, UnitFile | string>();
  /** machine -> when this engine saw it go, and its lease TTL (for OnDisconnect=stop grace). */
  private readonly gone = new Map<string, { at: number; ttlMs: number }>();
  /** Units (name -> hash) whose content was looked for and not found; retried every load. */
  private readonly missing = new Map<string, string>();
  private readonly store: EngineStore;
  /** The last Replaces relation built: the next one starts from it. */
  private lastReplaceGraph: ReplaceGraph | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
    /** The TTL of the agent this engine runs beside, if any. */
    private readonly ownTtlSeconds?: number,
  ) {
    const store = new EngineStore(registry);
    this.store = store;
    const k = registry.keys;
    const decode = registry.decode;
    this.units = store.watch(k.unitsPrefix, decode.unit, log);
    this.machines = store.watch(k.machinesPrefix, decode.machine, log);
    this.assignments = store.watch(k.assignmentsPrefix, decode.assignment, log);
    this.bids = store.watch(k.bidsPrefix, decode.bid, log);
    this.metadata = store.watch(k.metadataPrefix, (v) => v, log);
    this.rollouts = store.watch(k.rolloutsPrefix, decode.rollout, log);
    this.rollouts.onChange(() => {
      this.pins = undefined;
    });
    // Forget what was parsed for a unit's old content once it is destroyed or
    // replaced, so a long-lived engine does not grow with every unit ever seen.
    this.units.onChange((c) => {
      const prev = c.type === 'resync' ? undefined : c.previous?.value;
      if (!prev || (c.type === 'put' && c.entry.value.hash === prev.hash)) return;
      if (this.requirements.get(prev.name)?.hash === prev.hash) this.requirements.delete(prev.name);
      if (this.missing.get(prev.name) === prev.hash) this.missing.delete(prev.name);
    });
    this.machines.onChange((c) => {
      if (c.type === 'delete' && c.previous) {
        this.gone.set(c.previous.value.id, { at: Date.now(), ttlMs: (c.previous.value.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000 });
      } else if (c.type === 'put') {
        this.gone.delete(c.entry.value.id);
      }
    });
  }

  /**
   * A machine that left before this engine saw it: its record (and TTL) is
   * gone. Assume the longest TTL in sight, this engine's own host included
   * (hosts of one cluster normally share one).
   */
  private unknownTtlSeconds(): number {
    let ttl = this.ownTtlSeconds ?? DEFAULT_TTL_SECONDS;
    for (const e of this.machines.values()) ttl = Math.max(ttl, e.value.ttlSeconds ?? 0);
    return ttl;
  }

  /**
   * When the OnDisconnect=stop units of a machine whose lease is gone may be
   * taken as really stopped: this engine's sighting of the expiry plus a
   * grace of GRACE_FRACTION x its TTL. Undefined when no departure is on
   * record (the machine left before this engine took over): see
   * assumedStopDeadline and recordDeparture.
   */
  stopDeadline(machineId: string): number | undefined {
    const g = this.gone.get(machineId);
    return g === undefined ? undefined : g.at + g.ttlMs * GRACE_FRACTION;
  }

  /** A machine this engine never saw leave counts as leaving at `at`, with the longest TTL in sight: the safe side. */
  assumedStopDeadline(at: number): number {
    return at + this.unknownTtlSeconds() * 1000 * GRACE_FRACTION;
  }

  rolloutPin(unit: string, unitHash: string, machineId: string): string | undefined {
    this.pins ??= rolloutPins(this.rollouts.values());
    return pinnedHash(this.pins, unit, unitHash, this.units.get(this.registry.keys.unit(unit))?.modRevision ?? 0, machineId);
  }

  /** Record a departure this engine did not see (see assumedStopDeadline), so its deadline stays put. */
  recordDeparture(machineId: string, at: number): void {
    if (!this.gone.has(machineId)) this.gone.set(machineId, { at, ttlMs: this.unknownTtlSeconds() * 1000 });
  }

  get assignmentsRevision(): number {
    return this.assignments.revision;
  }

  *unitRecords(): Generator<UnitRecord> {
    for (const e of this.units.values()) yield e.value;
  }

  private get caches(): Array<{ start(): Promise<void>; close(): Promise<void> }> {
    return [this.units, this.machines, this.metadata, this.assignments, this.bids, this.rollouts];
  }

  onChange(listener: (source: Source, change: Change<unknown>) => void): void {
    this.units.onChange((c) => listener('units', c));
    this.machines.onChange((c) => listener('machines', c));
    this.metadata.onChange((c) => listener('metadata', c));
    this.assignments.onChange((c) => listener('assignments', c));
    this.bids.onChange((c) => listener('bids', c));
    this.rollouts.onChange((c) => listener('rollouts', c));
  }

  /** Read the caches a step's own conditions depend on (units, rollouts) again, then watch on. */
  async reread(): Promise<void> {
    await Promise.all([this.units.refresh(), this.rollouts.refresh()]);
  }

  async start(): Promise<void> {
    await Promise.all(this.caches.map((c) => c.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.caches.map((c) => c.close()));
  }

  /** The machine a P/metadata/<machine>/<key> key belongs to. */
  metadataMachine(key: string): string | undefined {
    const rest = Keys.rest(key, this.registry.keys.metadataPrefix);
    return rest && rest.length === 2 ? rest[0] : undefined;
  }

  /** Effective metadata of every live machine: config overlaid by dynamic keys (fleet's semantics). */
  effectiveMetadata(): Map<string, Record<string, string>> {
    const dynamic = new Map<string, Record<string, string>>();
    for (const e of this.metadata.values()) {
      const rest = Keys.rest(e.key, this.registry.keys.metadataPrefix);
      if (!rest || rest.length !== 2) continue;
      const [id, k] = rest as [string, string];
      let m = dynamic.get(id);
      if (!m) dynamic.set(id, (m = {}));
      m[k] = e.value;
    }
    const out = new Map<string, Record<string, string>>();
    for (const e of this.machines.values()) out.set(e.value.id, mergeMetadata(e.value.metadata, dynamic.get(e.value.id)));
    return out;
  }

  unit(name: string): UnitRecord | undefined {
    return this.units.get(this.registry.keys.unit(name))?.value;
  }

  liveMachineIds(): string[] {
    return [...this.machines.values()].map((e) => e.value.id).sort();
  }

  isLive(machineId: string): boolean {
    return this.machines.get(this.registry.keys.machine(machineId)) !== undefined;
  }

  /** Every assignment with the machine it is keyed under. */
  *placedAssignments(): Generator<PlacedEntry> {
    for (const e of this.assignments.values()) {
      const at = this.registry.keys.assignmentOfKey(e.key);
      if (!at) continue;
      yield { key: e.key, machineId: at.machineId, record: e.value, since: e.createRevision };
    }
  }

  /**
   * Assignment keys whose value does not decode, with the machine and unit
   * the key names (undefined when the key itself is not well-formed).
   */
  unitUnreadable(name: string): boolean {
    return this.units.isMalformed(this.registry.keys.unit(name));
  }

  *malformedAssignments(): Generator<MalformedAssignment> {
    for (const m of this.assignments.malformed()) {
      yield { key: m.key, since: m.createRevision, at: assignmentKeyOf(this.registry.keys, m.key) };
    }
  }

  /**
   * The Replaces relation over `units`, built from the last one: only what
   * changed since is matched again (a step that changed nothing matches no
   * glob).
   */
  replaceGraph(units: ReadonlyArray<readonly [string, UnitRequirements]>): ReplaceGraph {
    this.lastReplaceGraph = ReplaceGraph.build(units, this.lastReplaceGraph);
    return this.lastReplaceGraph;
  }

  requirementsOf(unit: UnitRecord): RequirementsResult | undefined {
    const r = this.requirements.get(unit.name);
    return r !== undefined && r.hash === unit.hash ? r.result : undefined;
  }

  /**
   * What hosts must do to judge this content (see src/unit/host-judgement.ts):
   * read it at all, and judge it one unit name at a time. Unknown or
   * unparsable content: both, to be safe.
   */
  hostJudgement(hash: string): HostJudgement {
    const file = this.files.get(hash);
    if (file === undefined || typeof file === 'string') return { needed: true, byName: true };
    const needed = needsHostJudgement(file);
    return { needed, byName: needed && verdictDependsOnName(file) };
  }

  /**
   * True if the last load looked for this unit's content and did not find
   * it. A unit with no requirements yet and not missing simply arrived after
   * the last load: it is not known yet, not broken.
   */
  contentMissing(unit: UnitRecord): boolean {
    return this.missing.get(unit.name) === unit.hash;
  }

  /** Fetch and parse the contents of any unit not seen before (contents are immutable per hash). */
  async loadRequirements(): Promise<void> {
    const pending: UnitRecord[] = [];
    for (const e of this.units.values()) {
      if (this.requirements.get(e.value.name)?.hash !== e.value.hash) pending.push(e.value);
    }
    if (pending.length === 0) return;
    const unfetched = [...new Set(pending.map((u) => u.hash))].filter((h) => !this.files.has(h));
    if (unfetched.length > 0) {
      this.contentReads += Math.ceil(unfetched.length / TXN_MAX_OPS);
      const contents = await this.store.getContents(unfetched);
      for (const hash of unfetched) {
        const text = contents.get(hash);
        if (text === undefined) continue; // not cached: it may appear later
        this.files.set(hash, readStoredUnit(text));
      }
    }
    for (const unit of pending) {
      const file = this.files.get(unit.hash);
      if (file === undefined) {
        if (this.missing.get(unit.name) !== unit.hash) this.log.warn({ unit: unit.name, hash: unit.hash }, 'unit content missing from the store');
        this.missing.set(unit.name, unit.hash);
        continue;
      }
      this.missing.delete(unit.name);
      let result: RequirementsResult;
      if (typeof file === 'string') {
        result = { ok: false, reason: file };
      } else {
        try {
          const requirements = parseRequirements(file, unit.name).requirements;
          const problem = requirementsProblem(requirements);
          result = problem === undefined ? { ok: true, requirements } : { ok: false, reason: overLimitReason(problem) };
        } catch (err) {
          result = { ok: false, reason: errorMessage(err) };
        }
      }
      // Once per unit and content: the result is kept until the content changes.
      if (!result.ok) this.log.warn({ unit: unit.name, hash: unit.hash, reason: result.reason }, 'unit cannot be placed');
      this.requirements.set(unit.name, { hash: unit.hash, result });
    }
  }
}
