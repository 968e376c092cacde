/** Cycle detection shared by MachineOf ordering and the Replaces relation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { orderByPeers, ReplaceGraph } from '../../src/scheduler/index.js';
import { reqs, request } from './support/fixtures.js';

test('Replaces direction: only the declaring unit replaces; self and cycles are ignored', () => {
  const g = ReplaceGraph.build(
    new Map([
      ['j.service', reqs({ replaces: ['r*', 'j.service'] })],
      ['r.service', reqs()],
      ['a.service', reqs({ replaces: ['b.service'] })],
      ['b.service', reqs({ replaces: ['c.service'] })],
      ['c.service', reqs({ replaces: ['a.service'] })],
    ]),
  );
  assert.equal(g.replaces('j.service', 'r.service'), true);
  assert.equal(g.replaces('r.service', 'j.service'), false);
  assert.equal(g.replaces('j.service', 'j.service'), false);
  assert.equal(g.replaces('a.service', 'b.service'), false);
  assert.deepEqual(g.ignoredCycles, [['a.service', 'b.service', 'c.service']]);
  assert.deepEqual([...g.replacersOf('r.service')], ['j.service']);
});

test('MachineOf order: peers first, then by name; cycles set apart; long chains do not overflow the stack', () => {
  const { ordered, cyclic } = orderByPeers([request('a.service', { machineOf: ['c.service'] }), request('b.service'), request('c.service', { machineOf: ['d.service'] }), request('d.service')]);
  assert.deepEqual(ordered.map((r) => r.unit), ['d.service', 'c.service', 'a.service', 'b.service']);
  assert.equal(cyclic.size, 0);

  const n = 20_000;
  const chain = Array.from({ length: n }, (_, i) => request(`u${i}.service`, i + 1 < n ? { machineOf: [`u${i + 1}.service`] } : {}));
  const long = orderByPeers(chain);
  assert.equal(long.ordered[0]?.unit, `u${n - 1}.service`);
  assert.equal(long.ordered[n - 1]?.unit, 'u0.service');

  const ring = Array.from({ length: n }, (_, i) => request(`u${i}.service`, { machineOf: [`u${(i + 1) % n}.service`] }));
  assert.equal(orderByPeers(ring).cyclic.size, n);
});

test('property: a Replaces graph built from the previous one equals one built from scratch', () => {
  const names = ['a.service', 'b.service', 'ab.service', 'web@1.service', 'web@2.service', 'db.service', 'x/y.service'];
  const globs = fc.constantFrom('a*', '*b*', 'web@?.service', 'web@[12].service', 'db.service', 'b.service', '*', '[', 'x*', '*y*');
  const cluster = fc.array(fc.tuple(fc.constantFrom(...names), fc.array(globs, { maxLength: 3 })), { maxLength: 7 });
  const edges = (g: ReplaceGraph, units: ReadonlyArray<readonly [string, unknown]>): string[] =>
    units.flatMap(([j]) => [...g.replacedBy(j)].sort().map((r) => `${j}->${r}`)).sort();
  fc.assert(
    fc.property(fc.array(cluster, { minLength: 1, maxLength: 5 }), (steps) => {
      let previous: ReplaceGraph | undefined;
      for (const step of steps) {
        const units = new Map(step.map(([n, rs]) => [n, reqs({ replaces: rs })] as const));
        const fresh = ReplaceGraph.build(units);
        const incremental = ReplaceGraph.build(units, previous);
        assert.deepEqual(edges(incremental, [...units]), edges(fresh, [...units]));
        assert.deepEqual(incremental.ignoredCycles.map((c) => c.join(' ')).sort(), fresh.ignoredCycles.map((c) => c.join(' ')).sort());
        previous = incremental;
      }
    }),
    { numRuns: 2000 },
  );
});

test('an engine step that changed nothing reuses the graph: no glob is matched again', () => {
  const units = new Map([
    ['a.service', reqs({ replaces: ['b*'] })],
    ['b1.service', reqs()],
  ]);
  const g = ReplaceGraph.build(units);
  assert.equal(ReplaceGraph.build(new Map(units), g), g);
  const grown = ReplaceGraph.build(new Map([...units, ['b2.service', reqs()]]), g);
  assert.notEqual(grown, g);
  assert.deepEqual([...grown.replacedBy('a.service')].sort(), ['b1.service', 'b2.service']);
});
