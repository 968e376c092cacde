/**
 * The rollout driver: one pass over one source's rollout = read the record
 * and the cluster (unit records, states of the units in flight, their
 * contents' health traits), decide with step.ts, write the unit records and
 * the next record in one fenced transaction. Nothing is kept between
 * passes, so whichever engine leads next resumes from the record.
 *
 * Before stepping, each unit still to do is reconciled with its unit record,
 * because people (and a crash between chunks) can change the cluster under
 * a rollout:
 * - the unit record is gone: the unit is done (destroyed on purpose);
 * - it holds neither the rollout's content nor the previous one: someone
 *   replaced it since; done, left as it is;
 * - an in-flight unit holds the previous content again: reverted (not a
 *   global unit whose host list is recorded and whose new content is to be
 *   written this pass: that is how it should be, see global-step.ts).
 *
 * A unit rolls host by host when its new content says [X-Fleet]
 * Global=true (and it had a previous content to keep on hosts not moved
 * yet); its hosts are the machines reporting a state for it.
 */
import type { DesiredState, RolloutRecord, UnitStateRecord } from '../registry/records.js';
import type { ClusterUnitRecord, RolloutStore, UnitWrite } from '../registry/rollout-store.js';
import type { Condition } from '../registry/txn.js';
import { UnitFile, parseRequirements } from '../unit/index.js';
import { type HostView, awaitingWrite, hasHosts, revertHosts } from './global-step.js';
import { type Health, type HealthTraits, healthTraits, unitHealth } from './health.js';
import { combineHealth, stepRollout } from './step.js';

/** Unit writes one pass starts at most (one transaction, with the record). */
export const STARTS_PER_PASS = 90;
/** While a rollout runs, look again at least this often: health is observed, not pushed. */
export const ROLLOUT_POLL_MS = 1000;

export interface PassInput {
  record: RolloutRecord;
  units: ReadonlyMap<string, ClusterUnitRecord>;
  states: ReadonlyMap<string, readonly UnitStateRecord[]>;
  /** Health traits per content hash (absent: content unreadable, health stays pending). */
  traits: ReadonlyMap<string, HealthTraits>;
  /** Units whose new content is global: they roll host by host (absent: none). */
  globals?: ReadonlySet<string>;
  now: number;
}

export interface PassDecision {
  record: RolloutRecord;
  writes: UnitWrite[];
  /** Whether anything must be written (the record changed or units are written). */
  changed: boolean;
  wakeAt: number | undefined;
}

/**
 * A unit's health over the hosts that report it: every report must be of
 * the new content (a host still on the old one is pending), healthy by the
 * unit's type; an agent's failure to carry out the assignment is failed.
 * A unit not launched counts as healthy once loaded (or, inactive, at once).
 */
export function observedHealth(states: readonly UnitStateRecord[], hash: string, desired: DesiredState, traits: HealthTraits | undefined): Health {
  if (desired === 'inactive') return 'healthy';
  if (states.length === 0 || traits === undefined) return 'pending';
  return combineHealth(
    states.map((s): Health => {
      if (s.hash !== hash) return 'pending';
      if (s.failure !== undefined) return 'failed';
      if (desired === 'loaded') return s.load === 'loaded' ? 'healthy' : unitHealth(traits, s) === 'failed' ? 'failed' : 'pending';
      return unitHealth(traits, s);
    }),
  );
}

export function decidePass(input: PassInput): PassDecision {
  const { record, units, now } = input;
  if (record.state !== 'running') return { record, writes: [], changed: false, wakeAt: undefined };
  const reconciled = record.units.map((u) => {
    if (u.phase !== 'pending' && u.phase !== 'inflight') return u;
    const current = units.get(u.name);
    if (!current) return { ...u, phase: 'done' as const, reason: 'destroyed during the rollout' };
    if (u.phase === 'inflight' && current.hash === u.previousHash && current.hash !== u.hash && !awaitingWrite(u)) {
      const back = { ...u, phase: 'reverted' as const, reason: 'previous content put back' };
      if (hasHosts(back)) revertHosts(back);
      return back;
    }
    if (current.hash !== u.hash && current.hash !== u.previousHash) return { ...u, phase: 'done' as const, reason: 'replaced outside the rollout; left as it is' };
    return u;
  });
  const rec: RolloutRecord = { ...record, units: reconciled };
  const desired = (name: string): DesiredState => units.get(name)?.desired ?? 'launched';
  const hosts: HostView = {
    hostsOf: (name) => (input.globals?.has(name) ? (input.states.get(name) ?? []).map((s) => s.machineId) : undefined),
    onHost: (name, hash, machineId) => {
      const mine = (input.states.get(name) ?? []).filter((s) => s.machineId === machineId);
      return mine.length === 0 ? 'gone' : observedHealth(mine, hash, desired(name), input.traits.get(hash));
    },
  };
  const step = stepRollout(rec, (name, hash) => observedHealth(input.states.get(name) ?? [], hash, desired(name), input.traits.get(hash)), now, hosts);
  let next = step.record;
  let replace = step.replace;
  let wakeAt = step.wakeAt;
  if (replace.length > STARTS_PER_PASS) {
    // The rest start on the next pass, at once: each put off is left as it
    // was read (pending, or, global, its host list recorded and its content not written).
    const later = new Set(replace.slice(STARTS_PER_PASS));
    replace = replace.slice(0, STARTS_PER_PASS);
    const before = new Map(rec.units.map((u) => [u.name, u]));
    next = { ...next, units: next.units.map((u) => (later.has(u.name) ? (before.get(u.name) ?? u) : u)) };
    wakeAt = now;
  }
  const writes: UnitWrite[] = [];
  const byName = new Map(next.units.map((u) => [u.name, u]));
  for (const name of replace) {
    const current = units.get(name);
    const u = byName.get(name);
    if (current && u && current.hash !== u.hash) writes.push({ unit: name, hash: u.hash, desired: current.desired, expect: current.revision });
  }
  for (const r of step.revert) {
    const current = units.get(r.unit);
    if (current && current.hash !== r.hash) writes.push({ unit: r.unit, hash: r.hash, desired: current.desired, expect: current.revision });
  }
  if (next.state === 'running') wakeAt = Math.min(wakeAt ?? Infinity, now + ROLLOUT_POLL_MS);
  const changed = writes.length > 0 || JSON.stringify(next) !== JSON.stringify(record);
  return { record: next, writes, changed, wakeAt: next.state === 'running' ? wakeAt : undefined };
}

export interface DriverDeps {
  store: Pick<RolloutStore, 'list' | 'readPass' | 'commitPass'>;
  fence: () => readonly Condition[];
  log: { info(fields: object, msg: string): void; warn(fields: object, msg: string): void };
}

export type PassOutcome = 'idle' | 'stepped' | 'refused' | 'gone';

/** One pass over one source's rollout. */
export async function driveRollout(deps: DriverDeps, source: string, now: number): Promise<{ outcome: PassOutcome; wakeAt: number | undefined; record?: RolloutRecord }> {
  // First look: which units and contents this pass needs.
  const first = await deps.store.readPass(source, [], [], []);
  const shape = first?.rollout.record;
  if (!shape) return { outcome: 'gone', wakeAt: undefined };
  if (shape.state !== 'running') return { outcome: 'idle', wakeAt: undefined, record: shape };
  const open = shape.units.filter((u) => u.phase === 'pending' || u.phase === 'inflight');
  const inflight = open.filter((u) => u.phase === 'inflight');
  const hashes = [...new Set(open.map((u) => u.hash))];
  const snap = await deps.store.readPass(source, open.map((u) => u.name), inflight.map((u) => u.name), hashes);
  const record = snap?.rollout.record;
  if (!snap || !record) return { outcome: 'gone', wakeAt: undefined };
  if (snap.rollout.revision !== first.rollout.revision) return { outcome: 'refused', wakeAt: now };
  const traits = new Map<string, HealthTraits>();
  const globals = new Set<string>();
  for (const u of open) {
    const text = snap.contents.get(u.hash);
    if (text === undefined) continue;
    try {
      const file = UnitFile.parse(text);
      if (!traits.has(u.hash)) traits.set(u.hash, healthTraits(u.name, file));
      // Per unit, not per content: [X-Fleet] values may hold specifiers of the unit's name.
      if (u.hosts !== undefined || parseRequirements(file, u.name).requirements.global) globals.add(u.name);
    } catch {
      // Content that does not parse never becomes healthy: the deadline stops the rollout.
    }
  }
  // A global unit about to start records its hosts: the machines reporting it (read now; the unit record and record stay as read above).
  const starting = open.filter((u) => u.phase === 'pending' && globals.has(u.name)).map((u) => u.name);
  if (starting.length > 0) {
    const more = await deps.store.readPass(source, [], starting, []);
    if (!more || more.rollout.revision !== first.rollout.revision) return { outcome: 'refused', wakeAt: now };
    for (const [name, states] of more.states) snap.states.set(name, states);
  }
  const d = decidePass({ record, units: snap.units, states: snap.states, traits, globals, now });
  if (!d.changed) return { outcome: 'idle', wakeAt: d.wakeAt, record };
  if (!(await deps.store.commitPass(source, snap.rollout.revision, d.record, d.writes, deps.fence()))) {
    deps.log.warn({ source }, 'rollout pass refused (fence lost, or the record or a unit changed meanwhile); next pass re-reads');
    return { outcome: 'refused', wakeAt: now + ROLLOUT_POLL_MS };
  }
  if (d.record.state !== 'running') deps.log.info({ source, state: d.record.state, error: d.record.error }, 'rollout ended');
  return { outcome: 'stepped', wakeAt: d.wakeAt, record: d.record };
}

/**
 * One pass over every running rollout; the earliest wake, and the units in
 * flight after it (a state report of one of them is worth a pass at once).
 */
export async function driveRollouts(deps: DriverDeps, now: number): Promise<{ nextWakeAt: number | undefined; inflight: string[] }> {
  let nextWakeAt: number | undefined;
  const inflight: string[] = [];
  for (const r of await deps.store.list()) {
    if (r.record?.state !== 'running') continue;
    const { wakeAt, record } = await driveRollout(deps, r.source, now);
    if (wakeAt !== undefined) nextWakeAt = Math.min(nextWakeAt ?? Infinity, wakeAt);
    // A refused pass returns no record: the one listed is the best guess of what is in flight.
    for (const u of (record ?? r.record).units) if (u.phase === 'inflight') inflight.push(u.name);
  }
  return { nextWakeAt, inflight };
}
