/** Running helper programs and finding them, for the dev cluster only. */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { FlotillaError } from '../util/errors.js';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Run to completion; a non-zero exit is a result, not an exception, because callers probe with it. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Absolute path of an executable: the first candidate that exists, else a PATH search. */
export async function findExecutable(name: string, candidates: string[] = []): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const p of [...candidates, ...dirs.map((d) => join(d, name))]) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // try the next one
    }
  }
  throw new FlotillaError(`${name} not found: run 'bash src/dev/ensure-deps.sh' (installs etcd-server, openssh-server)`);
}
