/**
 * Properties of the pure scheduler on random clusters and unit sets: a first
 * round places some units (the "existing" cluster), a second round places the
 * rest. The final cluster (existing + placements + moves) is checked against
 * every rule with oracles written independently of the scheduler's filters,
 * and must be a fixed point of re-evaluation (else the engine would flap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluatePlacements, placeUnits, ReplaceGraph, type Candidate, type ClusterView, type Decision, type PlacementRequest } from '../../src/scheduler/index.js';
import { globMatch, type UnitRequirements } from '../../src/unit/index.js';
import { apply, reqs } from './support/fixtures.js';

const N_UNITS = 10;
const name = (i: number): string => `u${i}.service`;
const machine = (i: number): string => String(i).repeat(32);
const pattern = fc.oneof(fc.nat(N_UNITS - 1).map(name), fc.constantFrom('u1*.service', 'u?.service', '*', 'u[2-4].service'));

const unitArb = fc.record({
  conflicts: fc.array(pattern, { maxLength: 2 }),
  machineOf: fc.array(fc.nat(N_UNITS).map(name), { maxLength: 2 }),
  replaces: fc.array(pattern, { maxLength: 1 }),
  pin: fc.option(fc.record({ machine: fc.nat(5), short: fc.boolean() }), { freq: 4 }),
  role: fc.option(fc.constantFrom('a', 'b'), { freq: 3 }),
  global: fc.nat(6).map((x) => x === 0),
  existing: fc.boolean(),
});

const clusterArb = fc.record({
  machines: fc.integer({ min: 1, max: 5 }),
  units: fc.array(unitArb, { minLength: 1, maxLength: N_UNITS }),
  refusals: fc.array(fc.tuple(fc.nat(N_UNITS - 1), fc.nat(4)), { maxLength: 6 }),
});

type Cluster = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: Cluster) {
  const requirements = new Map<string, UnitRequirements>();
  c.units.forEach((u, i) => {
    const r = reqs({ conflicts: u.conflicts, machineOf: u.machineOf.filter((p) => p !== name(i) || i % 3 === 0), replaces: u.replaces, global: u.global });
    if (u.pin) r.machineId = u.pin.short ? machine(u.pin.machine).slice(0, 8) : machine(u.pin.machine);
    if (u.role) r.machineMetadata = { role: [u.role] };
    requirements.set(name(i), r);
  });
  const machines = Array.from({ length: c.machines }, (_, i) => machine(i));
  const refused = new Set(c.refusals.filter(([, m]) => m < c.machines).map(([u, m]) => `${name(u)}@${machine(m)}`));
  const metadata = (m: string): Record<string, string> => ({ role: Number(m[0]) % 2 === 0 ? 'a' : 'b' });
  const candidates = (loads: Map<string, Set<string>>): Candidate[] =>
    machines.map((m) => ({
      machineId: m,
      load: loads.get(m)?.size ?? 0,
      accepts: { has: (u: string) => !refused.has(`${u}@${m}`) },
      refuses: { get: (u: string) => (refused.has(`${u}@${m}`) ? 'host says no' : undefined) },
      metadata: metadata(m),
    }));
  return { requirements, machines, refused, metadata, candidates };
}

function twoRounds(c: Cluster) {
  const b = build(c);
  const req = (i: number): PlacementRequest => ({ unit: name(i), requirements: b.requirements.get(name(i))! });
  const first = c.units.map((_, i) => i).filter((i) => c.units[i]!.existing).map(req);
  const empty: ClusterView = { unitsByMachine: new Map(), requirements: b.requirements };
  const d1 = placeUnits(first, b.candidates(new Map()), empty);
  const existing = apply(empty, d1);
  const placedNonGlobal = new Set([...existing.values()].flatMap((s) => [...s]));
  const second = c.units.map((_, i) => i).filter((i) => b.requirements.get(name(i))!.global || !placedNonGlobal.has(name(i))).map(req);
  const v2: ClusterView = { unitsByMachine: existing, requirements: b.requirements };
  const d2 = placeUnits(second, b.candidates(existing), v2);
  return { b, existing, d1, d2, final: apply(v2, d2), second };
}

/** Independent oracle: effective replace edges, ignoring edges inside cycles (R reaches J). */
function replacesOracle(requirements: Map<string, UnitRequirements>) {
  const edge = (j: string, r: string): boolean => j !== r && requirements.get(j)!.replaces.some((p) => globMatch(p, r));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set([from]);
    const todo = [from];
    while (todo.length > 0) {
      const x = todo.pop()!;
      if (x === to) return true;
      for (const y of requirements.keys()) if (!seen.has(y) && edge(x, y)) (seen.add(y), todo.push(y));
    }
    return false;
  };
  return (j: string, r: string): boolean => edge(j, r) && !reaches(r, j);
}

const conflict = (req: Map<string, UnitRequirements>, a: string, b: string): boolean =>
  a !== b && (req.get(a)!.conflicts.some((p) => globMatch(p, b)) || req.get(b)!.conflicts.some((p) => globMatch(p, a)));

test('property: every rule holds in the final cluster, across existing and new units, globals included', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const { b, final, d1, d2 } = twoRounds(c);
      const replaces = replacesOracle(b.requirements);
      const count = new Map<string, number>();
      for (const [m, units] of final) {
        const list = [...units];
        for (const u of list) {
          const r = b.requirements.get(u)!;
          if (!r.global) count.set(u, (count.get(u) ?? 0) + 1);
          for (const e of list) assert.ok(!conflict(b.requirements, u, e), `${u} and ${e} conflict on ${m}`);
          for (const p of r.machineOf) assert.ok(units.has(p), `${u} on ${m} without its peer ${p}`);
          if (r.machineId) assert.ok(m === r.machineId || m.slice(0, 8) === r.machineId, `${u} pinned to ${r.machineId} is on ${m}`);
          for (const [k, vs] of Object.entries(r.machineMetadata)) assert.ok(vs.includes(b.metadata(m)[k] ?? ''), `${u} on ${m}: metadata`);
          for (const j of list) assert.ok(!replaces(j, u), `${u} is on ${m} with ${j}, which replaces it`);
        }
      }
      for (const [u, n] of count) assert.equal(n, 1, `${u} placed ${n} times`);
      // Host refusals: nothing placed or moved onto a host that refused it.
      for (const d of [d1, d2] as Decision[]) {
        for (const p of d.placements) assert.ok(!b.refused.has(`${p.unit}@${p.machineId}`), `${p.unit} placed on a refusing host`);
        for (const mv of d.moves) if (mv.to) assert.ok(!b.refused.has(`${mv.unit}@${mv.to}`), `${mv.unit} moved onto a refusing host`);
      }
    }),
    { numRuns: 400 },
  );
});

test('property: a replaced unit is moved off its replacer\'s machine or left unplaced, never dropped silently', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const { d2, final } = twoRounds(c);
      const unplaced = new Set(d2.unplaced.map((u) => u.unit));
      for (const mv of d2.moves) {
        assert.ok(!final.get(mv.from)?.has(mv.unit) || mv.to === mv.from, `${mv.unit} still on ${mv.from}`);
        if (mv.to === undefined && !unplacedIsGlobal(c, mv.unit)) assert.ok(unplaced.has(mv.unit), `${mv.unit} moved nowhere but not reported unplaced`);
      }
    }),
    { numRuns: 300 },
  );
});

function unplacedIsGlobal(c: Cluster, unit: string): boolean {
  return c.units[Number(unit.slice(1, -'.service'.length))]?.global ?? false;
}

test('property: every requested non-global unit is placed, moved or reported unplaced with a reason per machine', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const { d2, second, b } = twoRounds(c);
      for (const r of second) {
        if (r.requirements.global) continue;
        const placed = d2.placements.some((p) => p.unit === r.unit);
        const unplaced = d2.unplaced.find((u) => u.unit === r.unit);
        assert.ok(placed !== (unplaced !== undefined) || d2.moves.some((m) => m.unit === r.unit), `${r.unit}: placed=${placed} unplaced=${!!unplaced}`);
        if (unplaced && !placed) assert.ok(Object.keys(unplaced.reasons).length > 0 && Object.keys(unplaced.reasons).every((m) => b.machines.includes(m)));
      }
    }),
    { numRuns: 300 },
  );
});

test('property: a placed cluster is a fixed point of re-evaluation (placing and re-checking agree, so nothing flaps)', () => {
  fc.assert(
    fc.property(clusterArb, (c) => {
      const { b, final } = twoRounds(c);
      let since = 0;
      const assigned = [...final].flatMap(([m, us]) => [...us].sort().map((unit) => ({ unit, machineId: m, since: since++ })));
      const metadata = new Map(b.machines.map((m) => [m, b.metadata(m)]));
      const violations = evaluatePlacements({ assigned, metadata, requirements: b.requirements, replaces: ReplaceGraph.build(b.requirements) });
      assert.deepEqual(violations, []);
    }),
    { numRuns: 300 },
  );
});
