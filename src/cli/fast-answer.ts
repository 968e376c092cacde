/**
 * What flotctl answers before loading anything else: `flotctl version`, and
 * help written to a pipe from the texts the build rendered with the real
 * program (flotctl-help.json beside the entry file; on a terminal commander
 * wraps to its width, so the CLI renders it). Shared by both entries (the
 * ESM main.ts and the CommonJS main-cjs.ts), which pass the directory their
 * file is in: import.meta.url in one, __dirname in the other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP_FILE, helpKey, storedHelp } from './help-request.js';
import { asksOnlyVersion, versionLine } from './version-line.js';
import { VERSION } from '../util/version.js';

function readHelpFile(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, HELP_FILE), 'utf8');
  } catch {
    return undefined; // not built here (a copied bin): the CLI renders help itself
  }
}

/** The whole output for argv when it is version or stored help, else undefined (the CLI runs). */
export function fastAnswer(argv: readonly string[], entryDir: string, stdoutIsTTY: boolean): string | undefined {
  if (asksOnlyVersion(argv)) return `${versionLine()}\n`;
  const key = helpKey(argv);
  if (key === undefined || stdoutIsTTY) return undefined;
  return storedHelp(readHelpFile(entryDir), VERSION, key);
}

export function printAnswer(answer: string): void {
  // A reader that went away (`flotctl version | true`) is not an error worth a stack trace.
  process.stdout.on('error', () => process.exit(0));
  process.stdout.write(answer);
}
