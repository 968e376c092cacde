/**
 * Recognizes the invocations of list-units and list-machines that flotctl
 * runs without commander (issue 12: both within 2x a bare `node -e 0`):
 *
 *   flotctl [global flags] list-units|list-machines [-l|--full|--l] [--no-legend] [--fields F]
 *
 * Global flags come before the command, as `--flag value` or `--flag=value`
 * (boolean ones bare); the command's own flags after it. The result means
 * exactly what commander would make of the same words; anything this does
 * not fully understand (a prefix such as `list-m`, help, a flag after the
 * wrong word, a value that looks like a flag, `--`, extra words) is
 * undefined, and the full CLI parses it, with its messages. Only the parsing
 * is replaced: the command, the global options' resolution, the client and
 * the output are the full CLI's own (list-fast.ts).
 */
import { GLOBAL_FLAGS, type GlobalFlag } from './globals.js';
import type { ListOptions } from './commands/list-options.js';

export type ListCommand = 'list-units' | 'list-machines';

export interface ListRequest {
  command: ListCommand;
  /** The global flags given on the command line, by commander attribute name, as commander's opts() holds them. */
  globals: Partial<Record<GlobalFlag['key'], string | true>>;
  list: ListOptions;
}

const COMMANDS: readonly string[] = ['list-units', 'list-machines'];

/** "--etcd-key-prefix <prefix>" -> "--etcd-key-prefix" */
function longFlag(flag: GlobalFlag): string | undefined {
  return /^--[a-z0-9-]+/.exec(flag.flags)?.[0];
}

const BY_LONG: ReadonlyMap<string, GlobalFlag> = new Map(
  GLOBAL_FLAGS.flatMap((f) => {
    const long = longFlag(f);
    return long === undefined ? [] : [[long, f] as const];
  }),
);

/** A flag and its value as one word (`--x=v`) or two (`--x v`); undefined when the value is missing or starts with '-'. */
interface Taken { name: string; value: string | undefined; next: number }

function take(argv: readonly string[], i: number, wantsValue: (name: string) => boolean): Taken | undefined {
  const word = argv[i] as string;
  const eq = word.indexOf('=');
  if (eq > 0) {
    const name = word.slice(0, eq);
    // `--debug=x` is an error to commander: its message, not ours.
    return wantsValue(name) ? { name, value: word.slice(eq + 1), next: i + 1 } : undefined;
  }
  if (!wantsValue(word)) return { name: word, value: undefined, next: i + 1 };
  const value = argv[i + 1];
  // commander takes any next word as the value, even `--full`: leave that reading to it.
  if (value === undefined || value.startsWith('-')) return undefined;
  return { name: word, value, next: i + 2 };
}

export function listRequest(argv: readonly string[]): ListRequest | undefined {
  const globals: ListRequest['globals'] = {};
  let i = 0;
  for (; i < argv.length && (argv[i] as string).startsWith('--') && argv[i] !== '--'; ) {
    const t = take(argv, i, (name) => BY_LONG.get(name)?.boolean === false);
    const flag = t && BY_LONG.get(t.name);
    if (!t || !flag) return undefined;
    // As with commander, the last of a repeated flag wins.
    globals[flag.key] = t.value ?? true;
    i = t.next;
  }
  const command = argv[i];
  if (command === undefined || !COMMANDS.includes(command)) return undefined;
  const list: ListOptions = { full: false, legend: true, fields: undefined };
  for (i++; i < argv.length; ) {
    const t = take(argv, i, (name) => name === '--fields');
    if (!t) return undefined;
    if (t.name === '--fields') list.fields = t.value;
    else if (t.name === '-l' || t.name === '--full' || t.name === '--l') list.full = true;
    else if (t.name === '--no-legend') list.legend = false;
    else return undefined;
    i = t.next;
  }
  return { command: command as ListCommand, globals, list };
}
