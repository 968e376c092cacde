/** fleet's findUnits: the named units that exist, in argument order. */
import type { UnitSummary } from '../types.js';
import { mapLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { unitNames } from './unit-args.js';

export async function findUnits(ctx: OperationContext, args: readonly string[]): Promise<UnitSummary[]> {
  const found = await mapLimit(unitNames(args), 16, (name) => ctx.client.getUnit(name));
  return found.filter((u): u is UnitSummary => u !== undefined);
}
