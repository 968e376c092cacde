/**
 * What hosts said about units in earlier rounds, per unit content: their
 * refusals (host-local facts: metadata, systemd Conditions, files) and their
 * silence (a live machine that did not bid in time). A unit is offered again
 * only if some machine might now take it, so an unplaceable unit costs
 * nothing until something changes.
 *
 * Only host answers live here. Cluster rules (Conflicts, peers, Replaces,
 * MachineID) are re-checked from the engine's caches before every offer, so a
 * conflicting unit going away, or a peer arriving, is seen at once without
 * anything to forget. Host answers are forgotten when the machine joins, its
 * metadata changes, it is heard from again (silence), or on the periodic
 * safety net (files and devices change without an event).
 */
import type { Change } from '../registry/prefix-cache.js';
import type { MachineRecord, UnitRecord } from '../registry/records.js';

export const SILENT = 'did not answer the offer in time';

/** What one machine said (or did not say). */
interface Answers {
  /** content hash -> why the host refuses every unit with it */
  contents: Map<string, string>;
  /** unit -> why the host refuses it with this content (name-dependent content) */
  units: Map<string, { hash: string; reason: string }>;
  /** units it did not answer for: one set per round it missed, shared by every machine that missed it */
  silent: Array<{ has(unit: string): boolean }>;
}

const MAX_SILENT_ROUNDS = 8;

/** What decisions may read of the host answers on record. */
export type RefusalsView = Pick<Refusals, 'heardAnything' | 'refused' | 'wasSilent'>;

export class Refusals {
  private readonly byMachine = new Map<string, Answers>();

  private answers(machineId: string): Answers {
    let a = this.byMachine.get(machineId);
    if (!a) this.byMachine.set(machineId, (a = { contents: new Map(), units: new Map(), silent: [] }));
    return a;
  }

  /** The host refuses this content, whatever the unit's name. */
  recordContent(hash: string, machineId: string, reason: string): void {
    this.answers(machineId).contents.set(hash, reason);
  }

  /** The host refuses this unit with this content (its verdict depends on the name). */
  record(unit: UnitRecord, machineId: string, reason: string): void {
    this.answers(machineId).units.set(unit.name, { hash: unit.hash, reason });
  }

  /** `units` (a round's units) is kept, not copied: one set serves every machine that missed the round. */
  recordSilence(machineId: string, units: { has(unit: string): boolean }): void {
    const silent = this.answers(machineId).silent;
    silent.push(units);
    // A live machine that never bids (e.g. an older flotillad) would add one per round. A silent
    // machine is no candidate anyway; the recent rounds are enough to say why it took nothing.
    if (silent.length > MAX_SILENT_ROUNDS) silent.shift();
  }

  /** The machine answered something: its silence is forgiven. True if that changes anything. */
  heardFrom(machineId: string): boolean {
    const a = this.byMachine.get(machineId);
    if (!a || a.silent.length === 0) return false;
    a.silent = [];
    return true;
  }

  /** The machine missed an earlier round and has not been heard from since. */
  wasSilent(machineId: string): boolean {
    return (this.byMachine.get(machineId)?.silent.length ?? 0) > 0;
  }

  /** Whether anything is on record for the machine: if not, it refuses nothing. */
  heardAnything(machineId: string): boolean {
    const a = this.byMachine.get(machineId);
    return a !== undefined && (a.contents.size > 0 || a.units.size > 0 || a.silent.length > 0);
  }

  /** Why the host will not take this content, if it said so (or said nothing). */
  refused(unit: UnitRecord, machineId: string): string | undefined {
    const a = this.byMachine.get(machineId);
    if (!a) return undefined;
    const byName = a.units.get(unit.name);
    if (byName !== undefined && byName.hash === unit.hash) return byName.reason;
    return a.contents.get(unit.hash) ?? (a.silent.some((s) => s.has(unit.name)) ? SILENT : undefined);
  }

  clearMachine(machineId: string): void {
    this.byMachine.delete(machineId);
  }

  clear(): void {
    this.byMachine.clear();
  }
}

/**
 * Forget host answers that a cache change made stale: a machine that joins,
 * or whose config or dynamic metadata changed, may now take what it refused.
 */
export function forgetStaleAnswers(
  refusals: Refusals,
  source: string,
  change: Change<unknown>,
  metadataMachine: (key: string) => string | undefined,
): void {
  if (source === 'machines' && change.type === 'put') {
    const now = change.entry.value as MachineRecord;
    const before = change.previous?.value as MachineRecord | undefined;
    if (!before || JSON.stringify(before.metadata) !== JSON.stringify(now.metadata)) refusals.clearMachine(now.id);
  } else if (source === 'metadata') {
    const machine = change.type === 'resync' ? undefined : metadataMachine(change.type === 'put' ? change.entry.key : change.key);
    if (machine !== undefined) refusals.clearMachine(machine);
    else refusals.clear();
  }
}
