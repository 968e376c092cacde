/**
 * list-units and list-machines as list-request.ts recognized them, without
 * commander and the other commands' code: the same Session (globals resolved
 * by resolveGlobals, the same client for either driver), the same command
 * functions and output, and the same failure report as runCli's; only
 * commander's parsing is left out.
 *
 * standaloneList says when a request runs with nothing loaded on demand,
 * which the CommonJS entry (main-cjs.ts) needs: its bundle carries only this
 * path, and hands every other invocation to the ESM bundle.
 */
import { listMachines } from './commands/list-machines.js';
import { listUnits } from './commands/list-units.js';
import { type GlobalOptions, resolveGlobals } from './globals.js';
import { type ListRequest, listRequest } from './list-request.js';
import { type Output, type OutputStream, wantsColour } from './output.js';
import { debugRequested, reportFailure } from './report.js';
import { Session } from './session.js';
import { ExitCode } from '../util/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

function globalsOf(req: ListRequest, env: Env): GlobalOptions {
  return resolveGlobals(req.globals, (key) => req.globals[key] !== undefined, env);
}

export interface StandaloneList {
  req: ListRequest;
  globals: GlobalOptions;
}

/**
 * The request, when running it loads nothing on demand (session.ts and
 * output.ts import the rest when used): the API driver (etcd's client is
 * loaded on use) without --tunnel (the SSH code), and no colour on either
 * stream (chalk). Globals that do not resolve are undefined too: the full
 * CLI reports them, with the same message.
 */
export function standaloneList(argv: readonly string[], env: Env, streams: { stdout: OutputStream; stderr: OutputStream }): StandaloneList | undefined {
  const req = listRequest(argv);
  if (!req || wantsColour(streams.stdout, env) || wantsColour(streams.stderr, env)) return undefined;
  let globals: GlobalOptions;
  try {
    globals = globalsOf(req, env);
  } catch {
    return undefined;
  }
  return globals.driver === 'api' && !globals.ssh.tunnel ? { req, globals } : undefined;
}

/** Runs the request; returns the exit code, as runCli does for the same words. `globals`: already resolved from the same env. */
export async function runList(req: ListRequest, argv: readonly string[], env: Env, output: Output, globals?: GlobalOptions): Promise<number> {
  const session = new Session(output, () => globals ?? globalsOf(req, env));
  try {
    await (req.command === 'list-units' ? listUnits : listMachines)(session, req.list);
    return session.exitCode ?? ExitCode.ok;
  } catch (err) {
    return reportFailure(err, output, debugRequested(argv, env, () => session.globals.debug));
  } finally {
    // The command's outcome is decided; a connection that fails to close changes nothing of it.
    await session.close().catch(() => undefined);
  }
}
