/** The CPU profile summary the benchmarks' --profile output is read with (test/bench/support/profile-summary.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortFile, summarise, timeline, type CpuProfile, type CpuProfileNode } from '../bench/support/profile-summary.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []): CpuProfileNode => ({
  id,
  callFrame: { functionName, url, lineNumber: 9 },
  children,
});

/**
 * (root) -> (idle); (root) -> step [src/engine/x.js] -> plan [src/engine/x.js] -> step (recursion)
 *        -> encode [node_modules/lib/y.js]
 */
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 3, 7]),
    frame(2, '(idle)', ''),
    frame(3, 'step', 'file:///repo/dist/src/engine/x.js', [4]),
    frame(4, 'plan', 'file:///repo/dist/src/engine/x.js', [5]),
    frame(5, 'step', 'file:///repo/dist/src/engine/x.js', [6]),
    frame(6, 'encode', 'file:///repo/node_modules/lib/y.js'),
    frame(7, '(garbage collector)', ''),
  ],
  // Sample i lasts timeDeltas[i + 1] µs: idle 5 ms, step 2 ms, plan 1 ms, inner step 3 ms, encode 4 ms, GC 1 ms, idle (last: no duration).
  samples: [2, 3, 4, 5, 6, 7, 2],
  timeDeltas: [0, 5000, 2000, 1000, 3000, 4000, 1000],
  startTime: 0,
  endTime: 16_000,
};

describe('profile summary', () => {
  it('names files by their place in the package or the build, not the absolute path', () => {
    assert.equal(shortFile('file:///work/wt/x/node_modules/@grpc/grpc-js/build/src/client.js'), 'node_modules/@grpc/grpc-js/build/src/client.js');
    assert.equal(shortFile('file:///work/wt/x/dist/src/engine/engine.js'), 'src/engine/engine.js');
    assert.equal(shortFile('node:internal/timers'), 'node:internal/timers');
    assert.equal(shortFile(''), '(native)');
  });

  it('adds self time per function from the sample durations, and counts a recursive function once per stack in inclusive time', () => {
    const s = summarise(profile);
    assert.equal(s.spanMs, 16);
    assert.equal(s.idleMs, 5);
    assert.equal(s.gcMs, 1);
    const self = Object.fromEntries(s.topSelf.map((r) => [r.name, r.ms]));
    assert.deepEqual(self, {
      'step src/engine/x.js:10': 5,
      'encode node_modules/lib/y.js:10': 4,
      'plan src/engine/x.js:10': 1,
      '(garbage collector)': 1,
    });
    const own = Object.fromEntries(s.ownInclusive.map((r) => [r.name, r.ms]));
    // step: 2 + 1 + 3 + 4 (its subtree, the inner step not again); plan: 1 + 3 + 4.
    assert.deepEqual(own, { 'step src/engine/x.js:10': 10, 'plan src/engine/x.js:10': 8 });
    const files = Object.fromEntries(s.fileInclusive.map((r) => [r.name, r.ms]));
    assert.deepEqual(files, { 'src/engine/x.js': 10, 'node_modules/lib/y.js': 4 });
    assert.deepEqual(s.fileSelf.map((r) => [r.name, r.ms]), [['src/engine/x.js', 6], ['node_modules/lib/y.js', 4]]);
  });

  it('keeps the top n rows only', () => {
    assert.equal(summarise(profile, 2).topSelf.length, 2);
  });

  it('puts each busy sample in the slice it started in, idle samples left out', () => {
    // Samples start at 0 (idle, 5 ms), 5 (step 2), 7 (plan 1), 8 (step 3), 11 (encode 4), 15 (GC 1), 16 (idle).
    assert.deepEqual(timeline(profile, 5), [0, 6, 4, 1]);
  });
});
