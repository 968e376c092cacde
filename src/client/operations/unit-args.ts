/**
 * Command-line unit arguments: "hello", "units/hello.service" and
 * "web@1" name both a local file and a unit (fleet's maybeAppendDefaultUnitType
 * and unitNameMangle).
 */
import { MANGLE_SUFFIXES, mangleUnitName } from '../../unit/index.js';

export interface UnitArg {
  /** The argument as given. */
  arg: string;
  /** Local file path: the argument with ".service" appended unless it has a known suffix. */
  path: string;
  /** Unit name: the base name of path. */
  name: string;
}

export function unitArg(arg: string): UnitArg {
  const path = MANGLE_SUFFIXES.some((s) => arg.endsWith(s)) ? arg : `${arg}.service`;
  return { arg, path, name: mangleUnitName(path) };
}

/** Unit names for arguments, first occurrence wins, order kept. */
export function unitNames(args: readonly string[]): string[] {
  return [...new Set(args.map((a) => mangleUnitName(a)))];
}

/** One argument per unit: repeating a unit on the command line acts on it once. */
export function uniqueUnitArgs(args: readonly string[]): UnitArg[] {
  const seen = new Set<string>();
  const out: UnitArg[] = [];
  for (const a of args.map(unitArg)) {
    if (seen.has(a.name)) continue;
    seen.add(a.name);
    out.push(a);
  }
  return out;
}

/** Go's %v of a []string: "[a b c]". */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}
