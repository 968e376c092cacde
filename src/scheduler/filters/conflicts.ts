/**
 * [X-Fleet] Conflicts: U and E never share a machine if one of U's globs
 * matches E's name OR one of E's globs matches U's name. A one-way
 * declaration binds both units. Global units conflict like any other.
 */
import type { UnitRequirements } from '../../unit/requirements.js';
import { matcher, matchesAny } from '../patterns.js';
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

export function conflictBetween(a: string, aReqs: UnitRequirements | undefined, b: string, bReqs: UnitRequirements | undefined): boolean {
  if (a === b) return false;
  return matchesAny(aReqs?.conflicts ?? [], b) || matchesAny(bReqs?.conflicts ?? [], a);
}

/**
 * The units of one machine that declare Conflicts, indexed so that "who
 * here objects to U?" is a lookup for plain-name patterns and a scan only of
 * the declarers that use globs.
 */
export class ConflictObjectors {
  private readonly byName = new Map<string, Set<string>>();
  private readonly globbing = new Map<string, readonly string[]>();

  add(unit: string, patterns: readonly string[]): void {
    for (const p of patterns) {
      const m = matcher(p);
      if (m.literal === undefined) {
        this.globbing.set(unit, patterns);
        continue;
      }
      let s = this.byName.get(m.literal);
      if (!s) this.byName.set(m.literal, (s = new Set()));
      s.add(unit);
    }
  }

  remove(unit: string, patterns: readonly string[]): void {
    this.globbing.delete(unit);
    for (const p of patterns) {
      const literal = matcher(p).literal;
      if (literal !== undefined) this.byName.get(literal)?.delete(unit);
    }
  }

  *of(name: string): Generator<string> {
    yield* this.byName.get(name) ?? [];
    for (const [unit, patterns] of this.globbing) if (matchesAny(patterns, name)) yield unit;
  }
}

/**
 * The first unit by name among `here` that conflicts with `unit`: those
 * `unit`'s own patterns name (a set lookup each, for plain names), and those
 * whose patterns name `unit` (`objectors`, the declarers among `here`).
 */
export function firstConflict(unit: string, reqs: UnitRequirements | undefined, here: ReadonlySet<string>, objectors: ConflictObjectors): string | undefined {
  let hit: string | undefined;
  const consider = (e: string): void => {
    if (e !== unit && (hit === undefined || e < hit)) hit = e;
  };
  for (const p of reqs?.conflicts ?? []) {
    const m = matcher(p);
    if (m.literal !== undefined) {
      if (here.has(m.literal)) consider(m.literal);
    } else {
      for (const e of here) if (m.test(e)) consider(e);
    }
  }
  for (const e of objectors.of(unit)) consider(e);
  return hit;
}

export const conflictsFilter: Filter = (req, candidate, state) => {
  const m = candidate.machineId;
  const hit = firstConflict(req.unit, req.requirements, state.unitsOn(m), state.conflictObjectorsOn(m));
  return hit === undefined ? undefined : reasons.conflicts(hit);
};
