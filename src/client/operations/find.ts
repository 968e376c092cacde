/** fleet's findUnits: the named units that exist, in argument order. */
import type { UnitSummary } from '../types.js';
import { mapLimit } from './concurrency.js';
import type { OperationContext } from './context.js';
import { unitNames } from './unit-args.js';

export async function findUnits(ctx: OperationContext, args: readonly string[]): Promise<UnitSummary[]> {
  const found = await mapLimit(unitNames(args), 16, (name) => ctx.client.getUnit(name));
  return found.filter((u): u is UnitSummary => u !== undefined);
}

/**
 * The prelude of stop, unload and destroy: fleet's two notices (`No units
 * given`, `Units not found in registry`, both exit 0) or the units found.
 */
export async function unitsToChange(ctx: OperationContext, args: readonly string[]): Promise<UnitSummary[] | undefined> {
  if (args.length === 0) {
    ctx.sink.err('No units given');
    return undefined;
  }
  const units = await findUnits(ctx, args);
  if (units.length === 0) {
    ctx.sink.err('Units not found in registry');
    return undefined;
  }
  return units;
}
