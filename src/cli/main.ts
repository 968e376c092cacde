#!/usr/bin/env node
/**
 * The flotctl binary. `flotctl version` is answered here, before anything
 * else is loaded (Node 20 has no module compile cache: every module a start
 * evaluates is paid for on every run); so is help written to a pipe, from the
 * texts the build rendered with the real program (flotctl-help.json beside
 * this file; on a terminal commander wraps to its width, so the CLI renders
 * it). Every other invocation loads the CLI.
 */
import { readFileSync } from 'node:fs';
import { HELP_FILE, helpKey, storedHelp } from './help-request.js';
import { asksOnlyVersion, versionLine } from './version-line.js';
import { VERSION } from '../util/version.js';

function readHelpFile(): string | undefined {
  try {
    return readFileSync(new URL(`./${HELP_FILE}`, import.meta.url), 'utf8');
  } catch {
    return undefined; // not built here (a copied bin): the CLI renders help itself
  }
}

function fastAnswer(argv: readonly string[]): string | undefined {
  if (asksOnlyVersion(argv)) return `${versionLine()}\n`;
  const key = helpKey(argv);
  if (key === undefined || process.stdout.isTTY) return undefined;
  return storedHelp(readHelpFile(), VERSION, key);
}

const argv = process.argv.slice(2);
const answer = fastAnswer(argv);
if (answer !== undefined) {
  // A reader that went away (`flotctl version | true`) is not an error worth a stack trace.
  process.stdout.on('error', () => process.exit(0));
  process.stdout.write(answer);
} else void import('./process.js').then((cli) => cli.runProcess(argv));
