/**
 * Candidates in least-loaded order (ties by machine id) as loads change
 * during a placement pass. A placement usually takes the first feasible candidate,
 * so the scheduler asks for candidates one at a time instead of filtering
 * every machine for every unit: O(log n) per placement when hosts are alike,
 * where filtering all was O(n) (10,000 units x 1,000 machines per pass).
 * Entries go stale when a load changes; stale ones are skipped on the way.
 */
import type { Candidate } from './types.js';

interface Entry {
  load: number;
  candidate: Candidate;
}

const before = (a: Entry, b: Entry): boolean =>
  a.load < b.load || (a.load === b.load && a.candidate.machineId < b.candidate.machineId);

export class LoadQueue {
  private readonly heap: Entry[] = [];

  constructor(
    candidates: readonly Candidate[],
    private readonly loadOf: (machineId: string) => number,
  ) {
    for (const c of candidates) this.push(c);
  }

  /** Record that `c`'s load changed (call after the round state changed it). */
  push(c: Candidate): void {
    const e = { load: this.loadOf(c.machineId), candidate: c };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** The least-loaded candidate whose entry is current, removed from the queue; undefined when empty. */
  pop(): Candidate | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l]!, h[m]!)) m = l;
          if (r < h.length && before(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      if (top.load === this.loadOf(top.candidate.machineId)) return top.candidate;
    }
    return undefined;
  }
}
