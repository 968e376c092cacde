/**
 * The command lines flotctl runs on a machine. Arguments are quoted for the
 * remote POSIX shell (fleet used Go's %q, which a shell reads differently
 * for `$` and backslashes). A machine whose agent drives a user manager
 * advertises it, and gets `systemctl --user` / `journalctl --user-unit`.
 */
import type { MachineSummary } from '../types.js';

type Scope = MachineSummary['systemdScope'];

const SAFE = /^[A-Za-z0-9@%_+=:,./-]+$/;

export function shellQuote(arg: string): string {
  return SAFE.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export function systemctlCommand(scope: Scope, args: readonly string[]): string {
  return commandLine(['systemctl', ...(scope === 'user' ? ['--user'] : []), ...args]);
}

export interface JournalOptions {
  lines: number;
  follow: boolean;
  output: string;
  sudo: boolean;
}

export function journalctlCommand(scope: Scope, unit: string, o: JournalOptions): string {
  const argv = [
    ...(o.sudo ? ['sudo'] : []),
    'journalctl',
    scope === 'user' ? '--user-unit' : '--unit',
    unit,
    '--no-pager',
    '-n',
    String(o.lines),
    '--output',
    o.output,
    ...(o.follow ? ['-f'] : []),
  ];
  return commandLine(argv);
}
