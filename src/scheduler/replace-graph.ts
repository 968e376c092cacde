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
import { matcher, preparedName } from './patterns.js';

const NONE: ReadonlySet<string> = new Set();

export class ReplaceGraph {
  static readonly empty = new ReplaceGraph(new Map(), [], new Map(), new Map(), NONE);

  private readonly replacers = new Map<string, Set<string>>();

  private constructor(
    private readonly targets: ReadonlyMap<string, ReadonlySet<string>>,
    /** Sets of units whose mutual Replaces were ignored; for logs. */
    readonly ignoredCycles: readonly string[][],
    /** What it was built from (unit -> its Replaces globs) and the matches before cycles were cut: for the next build. */
    private readonly globsOf: ReadonlyMap<string, readonly string[]>,
    private readonly matched: ReadonlyMap<string, ReadonlySet<string>>,
    /** Every unit name it was built over. */
    private readonly names: ReadonlySet<string>,
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
   * Build the relation over `units` (name -> requirements). Matching costs
   * O(units with Replaces x all units x globs): nothing when nobody uses
   * Replaces. With `previous` (the last graph built), a unit whose globs did
   * not change keeps its matches among the names still there, and only names
   * new since then are matched: a step that changed nothing matches nothing,
   * and a new unit costs its own globs against every name plus every glob
   * against its name.
   */
  static build(units: Iterable<readonly [string, UnitRequirements]>, previous?: ReplaceGraph): ReplaceGraph {
    const all = new Set<string>();
    const declaring: Array<[string, readonly string[]]> = [];
    for (const [name, reqs] of units) {
      all.add(name);
      if (reqs.replaces.length > 0) declaring.push([name, reqs.replaces]);
    }
    if (declaring.length === 0) return ReplaceGraph.empty;
    if (previous !== undefined && previous.builtFrom(all, declaring)) return previous;
    // Each name is prepared once for all the globs it is matched against.
    const everyName = [...all].map((n) => [n, preparedName(n)] as const);
    const freshNames = previous === undefined ? everyName : everyName.filter(([n]) => !previous.names.has(n));
    const matched = new Map<string, Set<string>>();
    const globsOf = new Map<string, readonly string[]>();
    for (const [j, patterns] of declaring) {
      globsOf.set(j, patterns);
      const before = previous?.globsOf.get(j);
      const kept = before !== undefined && sameList(before, patterns) ? previous!.matched.get(j) : undefined;
      const hit = new Set<string>();
      if (kept) for (const r of kept) if (all.has(r)) hit.add(r);
      const candidates = kept ? freshNames : everyName;
      for (const p of patterns) {
        const m = matcher(p);
        if (m.literal !== undefined) {
          if (all.has(m.literal)) hit.add(m.literal);
        } else {
          for (const [r, prepared] of candidates) if (m.test(r, prepared)) hit.add(r);
        }
      }
      // A unit never replaces itself, whatever its globs say.
      hit.delete(j);
      matched.set(j, hit);
    }
    const targets = new Map<string, Set<string>>();
    for (const [j, hit] of matched) if (hit.size > 0) targets.set(j, new Set(hit));
    // Components do not depend on the order edges are followed in (members come sorted).
    const nodes = [...targets.keys()].sort();
    const cycles = cyclicComponents(nodes, (n) => targets.get(n) ?? NONE);
    for (const members of cycles) {
      const inCycle = new Set(members);
      for (const m of members) {
        const t = targets.get(m);
        if (!t) continue;
        for (const r of [...t]) if (inCycle.has(r)) t.delete(r);
        if (t.size === 0) targets.delete(m);
      }
    }
    return new ReplaceGraph(targets, cycles, globsOf, matched, all);
  }

  /** Built over exactly these names, with these units declaring exactly these globs. */
  private builtFrom(names: ReadonlySet<string>, declaring: ReadonlyArray<readonly [string, readonly string[]]>): boolean {
    if (names.size !== this.names.size || declaring.length !== this.globsOf.size) return false;
    for (const n of names) if (!this.names.has(n)) return false;
    for (const [j, globs] of declaring) {
      const before = this.globsOf.get(j);
      if (before === undefined || !sameList(before, globs)) return false;
    }
    return true;
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

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
