/**
 * Unit names: fleet's api.ValidateName (a port of systemd's
 * unit_name_is_valid), NewUnitNameInfo and fleetctl's unitNameMangle, plus
 * Flotilla's own two refusals: a leading "." and the names the agent reserves
 * for itself. One rule for flotctl, the engine and the agent: records read
 * from etcd are checked with the same function as names typed by a user.
 */
import { Buffer } from 'node:buffer';
import { InvalidInputError } from '../util/errors.js';
import { RESERVED_UNIT_NAMES } from './reserved-names.js';
import { UNIT_LIMITS } from './limits.js';

/** Longest unit name in bytes (see UNIT_LIMITS.nameBytes). */
export const UNIT_NAME_MAX = UNIT_LIMITS.nameBytes;

export const UNIT_TYPES: readonly string[] = [
  'automount', 'busname', 'device', 'mount', 'path', 'scope', 'service',
  'slice', 'snapshot', 'socket', 'swap', 'target', 'timer',
];

/** Types systemd allows for templates and instances. */
export const TEMPLATE_UNIT_TYPES: readonly string[] = ['path', 'service', 'socket', 'target', 'timer'];

/** Suffixes fleetctl recognises when deciding whether to append ".service". */
export const MANGLE_SUFFIXES: readonly string[] = [
  '.service', '.socket', '.timer', '.path', '.device', '.mount', '.automount',
];

const VALID_CHAR = /^[A-Za-z0-9:_.@\-\\]$/;
const VALID_CHARS = /^[A-Za-z0-9:_.@\-\\]*$/;

/** Throws InvalidInputError naming the first problem, checked in fleet's order. */
export function validateUnitName(name: string): void {
  const problem = unitNameProblem(name);
  if (problem !== undefined) throw new InvalidInputError(`invalid unit name ${JSON.stringify(name)}: ${problem}`);
}

/** The same check without an exception, for names read from the store. */
export function isValidUnitName(name: unknown): name is string {
  return typeof name === 'string' && unitNameProblem(name) === undefined;
}

function unitNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'unit name cannot be empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > UNIT_NAME_MAX) return `unit name exceeds maximum length (${UNIT_NAME_MAX}); it is ${bytes} bytes`;
  const dot = name.lastIndexOf('.');
  if (dot === -1) return 'unit name must contain "."';
  if (dot === name.length - 1) return 'unit name cannot end in "."';
  const type = name.slice(dot + 1);
  if (!UNIT_TYPES.includes(type)) {
    return `invalid unit type: ${JSON.stringify(type)} (expected one of ${UNIT_TYPES.join(', ')})`;
  }
  if (name.includes('@') && !TEMPLATE_UNIT_TYPES.includes(type)) {
    return `invalid unit type for template: ${JSON.stringify(type)} (templates and instances must be one of ${TEMPLATE_UNIT_TYPES.join(', ')})`;
  }
  const base = name.slice(0, dot);
  // One regex for the usual, valid case; the per-character walk only to name the culprit.
  for (const ch of VALID_CHARS.test(base) ? '' : base) {
    if (!VALID_CHAR.test(ch)) {
      return `invalid character ${quoteRune(ch)} in unit name (allowed: letters, digits and : _ . @ - \\)`;
    }
  }
  if (name.startsWith('@')) return 'unit name cannot start in "@"';
  // systemd refuses only ".service"; the agent's units directory keeps its
  // own hidden files (temp files, its lease) and tools hide dotfiles: refuse all.
  if (name.startsWith('.')) return 'unit name cannot start with "." (rename the unit)';
  if (RESERVED_UNIT_NAMES.has(name)) return 'this name is reserved: the Flotilla agent writes this unit on every host itself (rename the unit)';
  return undefined;
}

/** Go's %q for a rune: 'c', with escapes for quotes and control characters. */
function quoteRune(ch: string): string {
  if (ch === "'") return "'\\''";
  if (/^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(ch)) return `'${ch}'`;
  return `'${JSON.stringify(ch).slice(1, -1)}'`;
}

export interface UnitNameInfo {
  /** foo@bar.service */
  fullName: string;
  /** Everything before the last ".": foo@bar */
  name: string;
  /** name up to the first "@" (all of name if there is none): foo */
  prefix: string;
  /** Unit type without the dot: service */
  suffix: string;
  /** Text after the first "@" in name: bar ("" for templates and plain units) */
  instance: string;
  /** The template this name belongs to, foo@.service; "" if name has no "@" */
  template: string;
  /** foo@.service */
  isTemplate: boolean;
  /** foo@bar.service */
  isInstance: boolean;
}

/**
 * Splits a unit name into its parts (fleet's NewUnitNameInfo). Does not
 * validate beyond requiring a "."; call validateUnitName for that.
 */
export function parseUnitName(name: string): UnitNameInfo {
  const dot = name.lastIndexOf('.');
  if (dot === -1) throw new InvalidInputError(`invalid unit name ${JSON.stringify(name)}: unit name must contain "."`);
  const base = name.slice(0, dot);
  const suffix = name.slice(dot + 1);
  const at = base.indexOf('@');
  if (at === -1) {
    return { fullName: name, name: base, prefix: base, suffix, instance: '', template: '', isTemplate: false, isInstance: false };
  }
  const prefix = base.slice(0, at);
  const instance = base.slice(at + 1);
  return {
    fullName: name,
    name: base,
    prefix,
    suffix,
    instance,
    template: `${prefix}@.${suffix}`,
    isTemplate: instance.length === 0,
    isInstance: instance.length > 0,
  };
}

/**
 * fleetctl's unitNameMangle: the base name of a path argument, with
 * ".service" appended unless it already ends in a suffix fleetctl knows.
 */
export function mangleUnitName(arg: string): string {
  const base = goPathBase(arg);
  return MANGLE_SUFFIXES.some((s) => base.endsWith(s)) ? base : `${base}.service`;
}

/** Go's path.Base, whose edge cases differ from node's path.basename. */
function goPathBase(p: string): string {
  if (p === '') return '.';
  let end = p.length;
  while (end > 0 && p[end - 1] === '/') end--;
  if (end === 0) return '/';
  const trimmed = p.slice(0, end);
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export { shortHash } from './short-hash.js';
