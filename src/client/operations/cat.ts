/** cat: the stored unit file, as fleet re-serializes it. */
import { mangleUnitName } from '../../unit/index.js';
import type { OperationContext } from './context.js';
import { fail } from './errors.js';

export async function catUnit(ctx: OperationContext, args: readonly string[]): Promise<string> {
  if (args.length !== 1) throw fail('One unit file must be provided');
  const name = mangleUnitName(args[0] as string);
  const file = await ctx.client.getUnitFile(name);
  if (!file) throw fail(`Unit ${name} not found`);
  return file.serialize();
}
