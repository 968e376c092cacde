#!/usr/bin/env node
/**
 * The flotctl binary. `flotctl version` is answered here, before anything
 * else is loaded (Node 20 has no module compile cache: every module a start
 * evaluates is paid for on every run); every other invocation loads the CLI.
 */
import { asksOnlyVersion, versionLine } from './version-line.js';

const argv = process.argv.slice(2);
if (asksOnlyVersion(argv)) {
  // A reader that went away (`flotctl version | true`) is not an error worth a stack trace.
  process.stdout.on('error', () => process.exit(0));
  process.stdout.write(`${versionLine()}\n`);
} else void import('./process.js').then((cli) => cli.runProcess(argv));
