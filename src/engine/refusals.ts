/**
 * What hosts refused in earlier rounds, per unit content. A unit is offered
 * again only to machines that have not refused that exact content, so an
 * unplaceable unit costs nothing until something changes: a new machine, new
 * content, or the periodic safety net (which forgets everything, because host
 * facts such as files or memory change without an event).
 */
import type { UnitRecord } from '../registry/records.js';

export class Refusals {
  private readonly byUnit = new Map<string, { hash: string; machines: Map<string, string> }>();

  record(unit: UnitRecord, reasons: Record<string, string>): void {
    const entry = this.entry(unit);
    for (const [m, why] of Object.entries(reasons)) entry.machines.set(m, why);
  }

  recordEverywhere(unit: UnitRecord, machines: readonly string[], reason: string): void {
    const entry = this.entry(unit);
    for (const m of machines) entry.machines.set(m, reason);
  }

  refused(unit: UnitRecord, machineId: string): boolean {
    const e = this.byUnit.get(unit.name);
    return e !== undefined && e.hash === unit.hash && e.machines.has(machineId);
  }

  reasons(unitName: string): ReadonlyMap<string, string> | undefined {
    return this.byUnit.get(unitName)?.machines;
  }

  clearMachine(machineId: string): void {
    for (const e of this.byUnit.values()) e.machines.delete(machineId);
  }

  clear(): void {
    this.byUnit.clear();
  }

  private entry(unit: UnitRecord): { hash: string; machines: Map<string, string> } {
    let e = this.byUnit.get(unit.name);
    if (!e || e.hash !== unit.hash) {
      e = { hash: unit.hash, machines: new Map() };
      this.byUnit.set(unit.name, e);
    }
    return e;
  }
}
