/** The flotctl process: run one command, flush output, exit with its code. */
import { errorMessage } from '../util/errors.js';
import { Output } from './output.js';
import { runCli } from './program.js';
import { redactedArgv } from './globals.js';
import { quietTlsServernameWarning } from '../util/warnings.js';

export function runProcess(argv: readonly string[]): void {
  // Before anything else: a password given with --password must not stay readable in `ps`.
  const redacted = redactedArgv(argv);
  if (redacted) process.title = ['flotctl', ...redacted].join(' ');
  quietTlsServernameWarning();

  const output = new Output({ stdout: process.stdout, stderr: process.stderr, env: process.env });

  async function finish(code: number): Promise<never> {
    // Exiting before stdout drains would cut off long tables written to a pipe.
    await output.flush();
    process.exit(code);
  }

  // A reader that went away (`flotctl list-units | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    });
  }

  // Last resort for failures outside the command's own promise chain (e.g. a stray client event).
  process.on('unhandledRejection', (reason) => {
    output.error(`flotctl: internal error: ${errorMessage(reason)}`);
    void finish(1);
  });

  void runCli(argv, process.env, output).then(finish, (err: unknown) => {
    output.error(`flotctl: internal error: ${errorMessage(err)}`);
    return finish(1);
  });
}
