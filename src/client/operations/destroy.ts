/**
 * destroy: remove units from the cluster. Blocking (the default) waits until
 * every agent has stopped and unloaded the unit, i.e. its states are gone;
 * fleet had this wait inverted (it only ran with --no-block, and checked the
 * unit record, which is gone at once).
 */
import { StoreUnavailableError, errorMessage } from '../../util/errors.js';
import { type BlockOptions, blockAttempts } from './activate.js';
import type { OperationContext } from './context.js';
import { fail, wrapError } from './errors.js';
import { unitsToChange } from './find.js';
import { waitForStatesGone } from './waits.js';

export async function destroyUnits(ctx: OperationContext, args: readonly string[], opts: BlockOptions = {}): Promise<void> {
  const units = await unitsToChange(ctx, args);
  if (!units) return;
  const problems: string[] = [];
  const destroyed: string[] = [];
  for (const u of units) {
    try {
      // false = someone else destroyed it first: nothing to report, as in fleet.
      if (await ctx.client.destroyUnit(u.name)) destroyed.push(u.name);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      problems.push(errorMessage(err));
    }
  }
  const attempts = blockAttempts(opts);
  try {
    await waitForStatesGone(ctx, destroyed, attempts, (name) => ctx.sink.out(`Destroyed ${name}`));
  } catch (err) {
    throw wrapError('Error waiting for units to be unloaded: ', err);
  }
  if (problems.length > 0) throw fail(`Error destroying units: ${problems.join('; ')}`);
}
