/**
 * list-units and list-machines as list-request.ts recognized them, without
 * commander and the other commands' code: the same Session (globals resolved
 * by resolveGlobals, the same client for either driver), the same command
 * functions and output, and the same failure report as runCli's; only
 * commander's parsing is left out.
 */
import { listMachines } from './commands/list-machines.js';
import { listUnits } from './commands/list-units.js';
import { resolveGlobals } from './globals.js';
import type { ListRequest } from './list-request.js';
import type { Output } from './output.js';
import { debugRequested, reportFailure } from './report.js';
import { Session } from './session.js';
import { ExitCode } from '../util/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Runs the request; returns the exit code, as runCli does for the same words. */
export async function runList(req: ListRequest, argv: readonly string[], env: Env, output: Output): Promise<number> {
  const session = new Session(output, () => resolveGlobals(req.globals, (key) => req.globals[key] !== undefined, env));
  try {
    await (req.command === 'list-units' ? listUnits : listMachines)(session, req.list);
    return session.exitCode ?? ExitCode.ok;
  } catch (err) {
    return reportFailure(err, output, debugRequested(argv, env, () => session.globals.debug));
  } finally {
    await session.close().catch(() => undefined);
  }
}
