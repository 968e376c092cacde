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

export class Refusals {
  private readonly byUnit = new Map<string, { hash: string; machines: Map<string, string> }>();
  private readonly silent = new Map<string, Set<string>>(); // machine -> units it did not answer for

  record(unit: UnitRecord, machineId: string, reason: string): void {
    let e = this.byUnit.get(unit.name);
    if (!e || e.hash !== unit.hash) this.byUnit.set(unit.name, (e = { hash: unit.hash, machines: new Map() }));
    e.machines.set(machineId, reason);
  }

  recordSilence(machineId: string, units: Iterable<string>): void {
    let s = this.silent.get(machineId);
    if (!s) this.silent.set(machineId, (s = new Set()));
    for (const u of units) s.add(u);
  }

  /** The machine answered something: its silence is forgiven. True if that changes anything. */
  heardFrom(machineId: string): boolean {
    return this.silent.delete(machineId);
  }

  /** Why the host will not take this content, if it said so (or said nothing). */
  refused(unit: UnitRecord, machineId: string): string | undefined {
    const e = this.byUnit.get(unit.name);
    const said = e !== undefined && e.hash === unit.hash ? e.machines.get(machineId) : undefined;
    return said ?? (this.silent.get(machineId)?.has(unit.name) ? SILENT : undefined);
  }

  clearMachine(machineId: string): void {
    for (const e of this.byUnit.values()) e.machines.delete(machineId);
    this.silent.delete(machineId);
  }

  clear(): void {
    this.byUnit.clear();
    this.silent.clear();
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
