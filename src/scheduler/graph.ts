/**
 * Strongly connected components (Tarjan, iterative so a long chain of
 * MachineOf or Replaces declarations cannot overflow the stack). Both
 * relations the scheduler orders by must be acyclic; their cycles are found
 * here, the same way, so they are treated the same way.
 */

/** Components of more than one node, plus single nodes with an edge to themselves; members sorted. */
export function cyclicComponents(nodes: readonly string[], edges: (node: string) => Iterable<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;

  for (const root of nodes) {
    if (index.has(root)) continue;
    // Each frame: a node and the iterator over its remaining successors.
    const frames: Array<{ node: string; succ: Iterator<string> }> = [];
    const open = (node: string): void => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      frames.push({ node, succ: edges(node)[Symbol.iterator]() });
    };
    open(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const step = frame.succ.next();
      if (!step.done) {
        const w = step.value;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!));
        continue;
      }
      frames.pop();
      const v = frame.node;
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(v)!));
      if (low.get(v) !== index.get(v)) continue;
      const component: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      const selfLoop = component.length === 1 && [...edges(v)].includes(v);
      if (component.length > 1 || selfLoop) out.push(component.sort());
    }
  }
  return out;
}
