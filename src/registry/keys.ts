/**
 * The etcd key schema, in one place. Every key Flotilla reads or writes is
 * built here; nothing else concatenates key strings.
 *
 *   P/units/<unit>                 UnitRecord: content hash + desired state    (user)
 *   P/content/<sha1>               serialized unit file, immutable per hash    (user)
 *   P/machines/<machine>           MachineRecord, on the agent's lease         (agent)
 *   P/metadata/<machine>/<key>     dynamic machine metadata, survives leaving  (user)
 *   P/assignments/<machine>/<unit> AssignmentRecord: what that agent must run  (engine, fenced)
 *   P/states/<unit>/<machine>      UnitStateRecord, on the agent's lease       (agent)
 *   P/offers/<round>               OfferRecord: units needing a machine, by content (engine, fenced, engine lease)
 *   P/bids/<round>/<machine>       BidRecord: refused contents/units, on the agent's lease (agent)
 *   P/unplaced/<unit>              UnplacedRecord: why no machine takes it     (engine, fenced)
 *   P/engine/candidates/<lease>    engine election: lowest create revision leads (any flotillad)
 *   P/sources/<source>             SourceRecord: where a source's units come from  (flotctl)
 *   P/source-status/<source>       SourceStatusRecord: applied commit, sync intent, rollout (whoever applies)
 *   P/inventory/<source>/<unit>    InventoryRecord: the source owns the unit; provenance (whoever applies)
 *   P/rollouts/<source>            RolloutRecord: a rolling replace in progress (flotctl sync starts, engine drives, fenced)
 *
 * Source names may contain "/" (github.com/acme/infra:units); in keys it is
 * written %2F, so a name is always one key segment.
 *
 * Assignments are keyed by machine first so an agent watches only its own
 * prefix; states are keyed by unit first so `list-units` and per-unit waits
 * are single range reads.
 */
export const DEFAULT_PREFIX = '/flotilla/';

export function normalizePrefix(prefix: string): string {
  if (prefix === '') return DEFAULT_PREFIX;
  let p = prefix.startsWith('/') ? prefix : `/${prefix}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

export class Keys {
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_PREFIX) {
    this.prefix = normalizePrefix(prefix);
  }

  get unitsPrefix(): string { return `${this.prefix}units/`; }
  unit(name: string): string { return `${this.unitsPrefix}${name}`; }

  get contentPrefix(): string { return `${this.prefix}content/`; }
  content(hash: string): string { return `${this.contentPrefix}${hash}`; }

  get machinesPrefix(): string { return `${this.prefix}machines/`; }
  machine(id: string): string { return `${this.machinesPrefix}${id}`; }

  get metadataPrefix(): string { return `${this.prefix}metadata/`; }
  machineMetadataPrefix(id: string): string { return `${this.metadataPrefix}${id}/`; }
  machineMetadata(id: string, key: string): string { return `${this.machineMetadataPrefix(id)}${key}`; }

  get assignmentsPrefix(): string { return `${this.prefix}assignments/`; }
  machineAssignmentsPrefix(machine: string): string { return `${this.assignmentsPrefix}${machine}/`; }
  assignment(machine: string, unit: string): string { return `${this.machineAssignmentsPrefix(machine)}${unit}`; }

  get statesPrefix(): string { return `${this.prefix}states/`; }
  unitStatesPrefix(unit: string): string { return `${this.statesPrefix}${unit}/`; }
  state(unit: string, machine: string): string { return `${this.unitStatesPrefix(unit)}${machine}`; }

  get offersPrefix(): string { return `${this.prefix}offers/`; }
  offer(round: string): string { return `${this.offersPrefix}${round}`; }

  get bidsPrefix(): string { return `${this.prefix}bids/`; }
  roundBidsPrefix(round: string): string { return `${this.bidsPrefix}${round}/`; }
  bid(round: string, machine: string): string { return `${this.roundBidsPrefix(round)}${machine}`; }

  get unplacedPrefix(): string { return `${this.prefix}unplaced/`; }
  unplaced(unit: string): string { return `${this.unplacedPrefix}${unit}`; }

  get electionPrefix(): string { return `${this.prefix}engine/candidates/`; }
  candidate(leaseId: string): string { return `${this.electionPrefix}${leaseId}`; }

  get sourcesPrefix(): string { return `${this.prefix}sources/`; }
  source(name: string): string { return `${this.sourcesPrefix}${Keys.segment(name)}`; }

  get sourceStatusPrefix(): string { return `${this.prefix}source-status/`; }
  sourceStatus(name: string): string { return `${this.sourceStatusPrefix}${Keys.segment(name)}`; }

  get inventoryPrefix(): string { return `${this.prefix}inventory/`; }
  sourceInventoryPrefix(source: string): string { return `${this.inventoryPrefix}${Keys.segment(source)}/`; }
  inventory(source: string, unit: string): string { return `${this.sourceInventoryPrefix(source)}${unit}`; }

  get rolloutsPrefix(): string { return `${this.prefix}rollouts/`; }
  rollout(source: string): string { return `${this.rolloutsPrefix}${Keys.segment(source)}`; }

  /** A name as one key segment: "/" becomes %2F (source names never contain "%"). */
  static segment(name: string): string {
    return name.replaceAll('/', '%2F');
  }

  /** The name a key segment stands for. */
  static unsegment(segment: string): string {
    return segment.replaceAll('%2F', '/');
  }

  /** The parts of a key after `base`, split on '/'; undefined if it is not under base. */
  static rest(key: string, base: string): string[] | undefined {
    if (!key.startsWith(base)) return undefined;
    return key.slice(base.length).split('/');
  }

  // What a key names, the inverse of the builders above. Structure only: the
  // parts are not validated here (records.ts and records-at.ts do that).

  /** P/units/<unit> -> unit */
  unitOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.unitsPrefix));
  }

  /** P/machines/<machine> -> machine */
  machineOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.machinesPrefix));
  }

  /** P/assignments/<machine>/<unit> */
  assignmentOfKey(key: string): { machineId: string; unit: string } | undefined {
    const p = pair(Keys.rest(key, this.assignmentsPrefix));
    return p && { machineId: p[0], unit: p[1] };
  }

  /** P/states/<unit>/<machine> */
  stateOfKey(key: string): { unit: string; machineId: string } | undefined {
    const p = pair(Keys.rest(key, this.statesPrefix));
    return p && { unit: p[0], machineId: p[1] };
  }

  /** P/offers/<round> -> round */
  offerOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.offersPrefix));
  }

  /** P/bids/<round>/<machine> */
  bidOfKey(key: string): { round: string; machineId: string } | undefined {
    const p = pair(Keys.rest(key, this.bidsPrefix));
    return p && { round: p[0], machineId: p[1] };
  }

  /** P/unplaced/<unit> -> unit */
  unplacedOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.unplacedPrefix));
  }

  /** P/content/<sha1> -> hash */
  contentOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.contentPrefix));
  }

  /** P/metadata/<machine>/<key>; a key holding '/' is not a metadata key. */
  metadataOfKey(key: string): { machineId: string; key: string } | undefined {
    const p = pair(Keys.rest(key, this.metadataPrefix));
    return p && { machineId: p[0], key: p[1] };
  }

  /** P/engine/candidates/<lease> -> lease id (decimal, as written by candidate()) */
  candidateOfKey(key: string): string | undefined {
    return single(Keys.rest(key, this.electionPrefix));
  }

  /** P/sources/<source> -> source name (unsegmented) */
  sourceOfKey(key: string): string | undefined {
    const s = single(Keys.rest(key, this.sourcesPrefix));
    return s === undefined ? undefined : Keys.unsegment(s);
  }

  /** P/source-status/<source> -> source name (unsegmented) */
  sourceStatusOfKey(key: string): string | undefined {
    const s = single(Keys.rest(key, this.sourceStatusPrefix));
    return s === undefined ? undefined : Keys.unsegment(s);
  }

  /** P/inventory/<source>/<unit>, the source unsegmented */
  inventoryOfKey(key: string): { source: string; unit: string } | undefined {
    const p = pair(Keys.rest(key, this.inventoryPrefix));
    return p && { source: Keys.unsegment(p[0]), unit: p[1] };
  }

  /** P/rollouts/<source> -> source name (unsegmented) */
  rolloutOfKey(key: string): string | undefined {
    const s = single(Keys.rest(key, this.rolloutsPrefix));
    return s === undefined ? undefined : Keys.unsegment(s);
  }

  /**
   * The unit a key of any per-unit kind is about (unit record, state,
   * assignment, unplaced record): what a watcher of several prefixes needs.
   */
  unitOfAnyKey(key: string): string | undefined {
    return this.unitOfKey(key) ?? this.stateOfKey(key)?.unit ?? this.assignmentOfKey(key)?.unit ?? this.unplacedOfKey(key);
  }
}

function single(rest: string[] | undefined): string | undefined {
  return rest && rest.length === 1 && rest[0] !== '' ? rest[0] : undefined;
}

function pair(rest: string[] | undefined): [string, string] | undefined {
  return rest && rest.length === 2 && rest[0] !== '' && rest[1] !== '' ? [rest[0] as string, rest[1] as string] : undefined;
}
