/**
 * Who replaces whom. Direction (a Flotilla decision; fleet detected the
 * relation both ways, so either unit could end up moving): J replaces R
 * exactly when one of J's own Replaces globs matches R's name. R's
 * declarations say nothing about J. The REPLACED unit is the one that moves.
 *
 * Cycles (A replaces B and B replaces A, or longer loops) would make units
 * chase each other around the cluster forever. fleet ignored a mutual
 * replace; we ignore every edge inside a cycle, deterministically, so those
 * units are placed as if they did not replace each other. The CLI refuses to
 * submit such a set, so this only guards against what is already stored.
 */
import type { UnitRequirements } from '../unit/requirements.js';
import { cyclicComponents } from './graph.js';
import { matcher } from './patterns.js';

const NONE: ReadonlySet<string> = new Set();

export class ReplaceGraph {
  static readonly empty = new ReplaceGraph(new Map(), []);

  private readonly replacers = new Map<string, Set<string>>();

  private constructor(
    private readonly targets: ReadonlyMap<string, ReadonlySet<string>>,
    /** Sets of units whose mutual Replaces were ignored; for logs. */
    readonly ignoredCycles: readonly string[][],
  ) {
    for (const [j, rs] of targets) {
      for (const r of rs) {
        let s = this.replacers.get(r);
        if (!s) this.replacers.set(r, (s = new Set()));
        s.add(j);
      }
    }
  }

  /**
   * Build the relation over `units` (name -> requirements). Cost is
   * O(units with Replaces x all units): nothing when nobody uses Replaces.
   */
  static build(units: Iterable<readonly [string, UnitRequirements]>): ReplaceGraph {
    const all = new Set<string>();
    const declaring: Array<[string, readonly string[]]> = [];
    for (const [name, reqs] of units) {
      all.add(name);
      if (reqs.replaces.length > 0) declaring.push([name, reqs.replaces]);
    }
    if (declaring.length === 0) return ReplaceGraph.empty;
    const targets = new Map<string, Set<string>>();
    for (const [j, patterns] of declaring) {
      const hit = new Set<string>();
      for (const p of patterns) {
        const m = matcher(p);
        if (m.literal !== undefined) {
          if (all.has(m.literal)) hit.add(m.literal);
        } else {
          for (const r of all) if (m.test(r)) hit.add(r);
        }
      }
      // A unit never replaces itself, whatever its globs say.
      hit.delete(j);
      if (hit.size > 0) targets.set(j, hit);
    }
    const nodes = [...targets.keys()].sort();
    const cycles = cyclicComponents(nodes, (n) => [...(targets.get(n) ?? NONE)].sort());
    for (const members of cycles) {
      const inCycle = new Set(members);
      for (const m of members) {
        const t = targets.get(m);
        if (!t) continue;
        for (const r of [...t]) if (inCycle.has(r)) t.delete(r);
        if (t.size === 0) targets.delete(m);
      }
    }
    return new ReplaceGraph(targets, cycles);
  }

  /** True when `j` replaces `r` (cycles excluded). */
  replaces(j: string, r: string): boolean {
    return this.targets.get(j)?.has(r) ?? false;
  }

  /** Units that `j` replaces. */
  replacedBy(j: string): ReadonlySet<string> {
    return this.targets.get(j) ?? NONE;
  }

  /** Units that replace `r`. */
  replacersOf(r: string): ReadonlySet<string> {
    return this.replacers.get(r) ?? NONE;
  }
}
