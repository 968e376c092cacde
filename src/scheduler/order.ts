/**
 * The order a placement pass considers its requests in: peers before their followers
 * (MachineOf), otherwise by name, so a follower finds its peer already placed
 * and results do not depend on the order units arrived in. Units in a
 * MachineOf cycle can never be placed (each waits for another): they are set
 * apart with the reason.
 */
import { cyclicComponents } from './graph.js';
import { reasons } from './reasons.js';
import type { PlacementRequest } from './types.js';

export interface Ordered {
  ordered: PlacementRequest[];
  /** unit -> why it can never be placed. */
  cyclic: Map<string, string>;
}

export function orderByPeers(requests: readonly PlacementRequest[]): Ordered {
  const byName = new Map<string, PlacementRequest>();
  for (const r of requests) byName.set(r.unit, r);
  const names = [...byName.keys()].sort();
  // Only peers that are themselves in this pass constrain the order.
  const peersIn = (n: string): string[] => (byName.get(n)?.requirements.machineOf ?? []).filter((p) => byName.has(p)).sort();

  const cyclic = new Map<string, string>();
  for (const members of cyclicComponents(names, peersIn)) {
    const why = reasons.machineOfCycle(members);
    for (const m of members) cyclic.set(m, why);
  }

  const ordered: PlacementRequest[] = [];
  const done = new Set<string>();
  for (const root of names) {
    if (done.has(root)) continue;
    // Iterative post-order DFS: a unit is emitted after all its in-round peers.
    const stack: Array<{ name: string; peers: string[]; i: number }> = [{ name: root, peers: peersIn(root), i: 0 }];
    done.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.peers[top.i++];
      if (next !== undefined) {
        if (!done.has(next) && !cyclic.has(top.name)) {
          done.add(next);
          stack.push({ name: next, peers: peersIn(next), i: 0 });
        }
        continue;
      }
      stack.pop();
      ordered.push(byName.get(top.name)!);
    }
  }
  return { ordered, cyclic };
}
