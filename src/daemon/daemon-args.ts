/**
 * Whether flotillad's arguments ask for the daemon itself: nothing but
 * `--config FILE` (or `--config=FILE`). Only then are the `dev` and
 * `bootstrap-config` subcommands left unloaded: their modules (the local
 * cluster's tooling with ssh2, the bootstrap renderers with yaml) are about
 * 4 MB of a running daemon's RSS that it never uses (issue 9's 64 MB target;
 * measured by importing them beside flotillad.js). Anything else (a
 * subcommand, --help, --version, a mistake) builds the whole program as
 * before, so help and usage errors are unchanged.
 */
export function isDaemonRun(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--config=')) continue;
    if (a === '--config' && i + 1 < args.length && !args[i + 1]!.startsWith('-')) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}
