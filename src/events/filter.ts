/**
 * Which events a watcher asked for: a unit name glob (`*` any run, `?` one
 * character) and a machine id or id prefix. Parsed once, strictly: bad
 * filters are one-line errors, never a stream that shows nothing.
 */
import { InvalidInputError } from '../util/errors.js';
import type { FlotillaEvent } from './derive.js';

export interface EventFilter {
  unit?: string;
  machine?: string;
}

/** Characters of unit names (systemd's set) plus the glob's `*` and `?`. */
const UNIT_GLOB = /^[A-Za-z0-9:_.\\@*?-]{1,256}$/;
const MACHINE = /^[0-9a-f]{1,32}$/;

export type EventPredicate = (e: FlotillaEvent) => boolean;

export function eventPredicate(f: EventFilter): EventPredicate {
  const unit = f.unit;
  if (unit !== undefined && !UNIT_GLOB.test(unit)) {
    throw new InvalidInputError(`unit filter "${unit.slice(0, 80)}" is not a unit name glob: use letters, digits, ":_.\\@-" and the wildcards * and ?, e.g. web@*.service`);
  }
  const machine = f.machine;
  if (machine !== undefined && !MACHINE.test(machine)) {
    throw new InvalidInputError(`machine filter "${machine.slice(0, 80)}" is not a machine id: give the id or its first characters (lowercase hex), as list-machines prints it`);
  }
  return (e) => {
    if (unit !== undefined && (e.unit === undefined || !globMatch(unit, e.unit))) return false;
    if (machine !== undefined && !(e.machine?.startsWith(machine) || e.from?.startsWith(machine))) return false;
    return true;
  };
}

/**
 * `*` and `?` matching in O(pattern x text) at worst: on a mismatch, only
 * the last `*` is widened (a regular expression of many `*` could backtrack
 * for far longer than a request may cost).
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
