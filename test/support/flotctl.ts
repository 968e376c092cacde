/**
 * flotctl as a user runs it, for the cluster tests: the one child-process
 * runner of test/cli/support/run.ts, with the cluster's environment first.
 */
import { cells, flotctl as run } from '../cli/support/run.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function flotctl(env: Record<string, string>, args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<Run> {
  const r = await run(args, { env: { ...env, NO_COLOR: '1' }, cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  // A child killed by its timeout has no exit code: that is a failure.
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of a table printed with --no-legend, split on whitespace. */
export const rows = cells;
