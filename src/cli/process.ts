/**
 * The flotctl process: run one command, flush output, exit with its code.
 * list-units and list-machines in the forms list-request.ts recognizes run
 * without loading commander and the other commands (list-fast.ts, imported
 * statically: what it needs is loaded in one round with this file, and the
 * full CLI loads all of it anyway); every other invocation loads the full
 * CLI (program.ts). The CommonJS entry (main-cjs.ts) passes its own run:
 * the list request it already recognized.
 */
import { errorMessage } from '../util/errors.js';
import { type Output, createOutput } from './output.js';
import { redactedArgv } from './globals.js';
import { listRequest } from './list-request.js';
import { runList } from './list-fast.js';
import { quietTlsServernameWarning } from '../util/warnings.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One command on an output: its exit code. */
export type Run = (argv: readonly string[], env: Env, output: Output) => Promise<number>;

async function runAny(argv: readonly string[], env: Env, output: Output): Promise<number> {
  const list = listRequest(argv);
  if (list) return runList(list, argv, env, output);
  return (await import('./program.js')).runCli(argv, env, output);
}

export async function runProcess(argv: readonly string[], run: Run = runAny): Promise<void> {
  // Before anything else: a password given with --password must not stay readable in `ps`.
  const redacted = redactedArgv(argv);
  if (redacted) process.title = ['flotctl', ...redacted].join(' ');
  quietTlsServernameWarning();

  // A reader that went away (`flotctl list-units | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    });
  }

  const output = await createOutput({ stdout: process.stdout, stderr: process.stderr, env: process.env });

  async function finish(code: number): Promise<never> {
    // Exiting before stdout drains would cut off long tables written to a pipe.
    await output.flush();
    process.exit(code);
  }

  // Last resort for failures outside the command's own promise chain (e.g. a stray client event).
  process.on('unhandledRejection', (reason) => {
    output.error(`flotctl: internal error: ${errorMessage(reason)}`);
    void finish(1);
  });

  void run(argv, process.env, output).then(finish, (err: unknown) => {
    output.error(`flotctl: internal error: ${errorMessage(err)}`);
    return finish(1);
  });
}
