/**
 * Circular Replaces= refused at submit. fleet accepted a unit that replaces
 * one that (directly or through others) replaces it back, and its engine then
 * either ignored the pair or moved the units around each other forever; here
 * the cycle is named and nothing is written.
 */
import { UnitFile, X_FLEET_SECTION, compileGlob, parseRequirements, parseUnitName, unitLimitProblem } from '../../unit/index.js';
import type { OperationContext } from './context.js';
import { fail } from './errors.js';

export interface ReplacesNode {
  name: string;
  /** Replaces= globs, specifiers expanded for `name`. */
  replaces: readonly string[];
}

/**
 * The shortest cycle through one of `fresh` (tried in order), as a path that
 * starts and ends with that unit: [a, b, a]. A unit matching its own pattern
 * is not a cycle (nothing to move). Only units that replace something can be
 * on a cycle, so the graph is built among those alone.
 */
export function findReplaceCycle(nodes: readonly ReplacesNode[], fresh: readonly string[]): string[] | undefined {
  const replacing = nodes.filter((n) => n.replaces.length > 0);
  const edges = new Map<string, string[]>();
  for (const a of replacing) {
    const globs = a.replaces.map(compileGlob);
    edges.set(a.name, replacing.filter((b) => b.name !== a.name && globs.some((g) => g.test(b.name))).map((b) => b.name));
  }
  for (const start of fresh) {
    if (!edges.has(start)) continue;
    // Breadth first, so the message names as few units as possible.
    const from = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const at = queue[i] as string;
      for (const next of edges.get(at) ?? []) {
        if (next === start) return [...pathTo(from, at, start), start];
        if (from.has(next)) continue;
        from.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function pathTo(from: ReadonlyMap<string, string>, end: string, start: string): string[] {
  const path = [end];
  for (let at = end; at !== start; ) {
    at = from.get(at) as string;
    path.unshift(at);
  }
  return path;
}

/** "unit a.service replaces b.service, which replaces a.service: remove one of the Replaces= lines" */
export function replaceCycleMessage(cycle: readonly string[]): string {
  const [first, ...rest] = cycle;
  return `unit ${first} replaces ${rest.join(', which replaces ')}: remove one of the Replaces= lines`;
}

function hasReplaces(file: UnitFile): boolean {
  return file.options.some((o) => o.section === X_FLEET_SECTION && o.name === 'Replaces');
}

/**
 * Templates never run, so they replace nothing; their instances are checked
 * under their own names. A stored unit over a limit replaces nothing either:
 * the engine does not place it (and its patterns are not worth matching).
 */
function node(name: string, file: UnitFile): ReplacesNode | undefined {
  if (!hasReplaces(file) || (name.includes('@') && parseUnitName(name).isTemplate)) return undefined;
  const requirements = parseRequirements(file, name).requirements;
  if (unitLimitProblem(file, requirements) !== undefined) return undefined;
  return { name, replaces: requirements.replaces };
}

/**
 * Throws if the units about to be created would close a Replaces cycle with
 * each other or with the units in the cluster (a created unit's new content
 * stands in for the stored one). Reads the cluster only when a created unit
 * replaces something, since only then can a cycle run through it.
 */
export async function checkReplaceCycles(ctx: OperationContext, creates: ReadonlyArray<{ name: string; file: UnitFile }>): Promise<void> {
  const fresh = creates.map((c) => node(c.name, c.file)).filter((n): n is ReplacesNode => n !== undefined);
  if (fresh.length === 0) return;
  const creating = new Set(creates.map((c) => c.name));
  const nodes = [...fresh];
  for (const u of await ctx.client.listUnitFiles()) {
    if (creating.has(u.name)) continue;
    const n = node(u.name, u.file);
    if (n) nodes.push(n);
  }
  const cycle = findReplaceCycle(nodes, fresh.map((n) => n.name));
  if (cycle) throw fail(replaceCycleMessage(cycle));
}
