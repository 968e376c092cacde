/** `flotctl version`'s line, in a module that imports nothing else (fast-answer.ts answers it before loading the CLI). */
import { VERSION } from '../util/version.js';

export function versionLine(): string {
  return `flotctl version ${VERSION}`;
}

/** Invocations that print only the version line: answered without loading commander or any command. */
export function asksOnlyVersion(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === 'version' || argv[0] === '--version' || argv[0] === '-v');
}
