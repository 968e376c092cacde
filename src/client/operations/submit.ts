/** submit: store units with desired state inactive (fleet's runSubmitUnits). */
import type { OperationContext } from './context.js';
import { lazyCreateUnits } from './create.js';
import { wrapError } from './errors.js';

export async function submitUnits(ctx: OperationContext, args: readonly string[], opts: { replace?: boolean } = {}): Promise<void> {
  if (args.length === 0) {
    ctx.sink.err('No units given');
    return;
  }
  try {
    await lazyCreateUnits(ctx, args, { command: 'submit', replace: opts.replace ?? false });
  } catch (err) {
    throw wrapError('Error creating units: ', err);
  }
}
