/**
 * Metadata operations (PATCH /fleet/v1/machines and /flotilla/v1/machines/:id)
 * applied through the client library: in order, folded into one change per
 * machine (a later operation on a key wins), every change checked before any
 * machine is written.
 */
import { validateMetadataChange } from '../client/metadata.js';
import type { MetadataChange, MetadataResult } from '../client/types.js';
import type { ApiContext } from './context.js';
import type { MetadataOp } from './schema.js';

export async function applyMetadataOps(ctx: ApiContext, ops: readonly MetadataOp[]): Promise<Array<{ machine: string; result: MetadataResult }>> {
  // Maps, not objects: a key may be spelled "__proto__".
  const changes = new Map<string, { set: Map<string, string>; remove: Set<string> }>();
  for (const op of ops) {
    let c = changes.get(op.machineId);
    if (!c) changes.set(op.machineId, (c = { set: new Map(), remove: new Set() }));
    if (op.op === 'remove') {
      c.set.delete(op.key);
      c.remove.add(op.key);
    } else {
      c.remove.delete(op.key);
      c.set.set(op.key, op.value!);
    }
  }
  const planned: Array<[string, MetadataChange]> = [...changes].map(([m, c]) => [m, { set: Object.fromEntries(c.set), remove: [...c.remove] }]);
  for (const [, change] of planned) validateMetadataChange(change);
  const out = [];
  for (const [machine, change] of planned) out.push({ machine, result: await ctx.client.updateMachineMetadata(machine, change) });
  return out;
}
