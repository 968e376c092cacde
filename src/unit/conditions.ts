/**
 * The systemd `Condition*=` and `Assert*=` lines of a unit's [Unit] section,
 * read the way systemd's unit loader reads them (systemd.unit(5),
 * load-fragment.c): a leading `|` makes a line triggering, a following `!`
 * negates it (whitespace after either is skipped), and an empty assignment of
 * any condition resets every condition listed before it; Assert lines form a
 * separate list with the same rules. Lines systemd does not know are ignored
 * by systemd, so they are ignored here too.
 *
 * Values are kept as written: systemd expands specifiers (%i, %H, ...) when it
 * loads the unit on a host, so expanding them needs the unit's name and the
 * host, which the evaluator has and this parser does not.
 */
import type { UnitFile } from './unit-file.js';

export const CONDITION_SECTION = 'Unit';

/** Every check name systemd (v256) accepts after `Condition` or `Assert`. */
export const SYSTEMD_CONDITION_CHECKS: readonly string[] = [
  'Architecture', 'Firmware', 'Virtualization', 'Host', 'KernelCommandLine', 'KernelVersion', 'Version',
  'Credential', 'Security', 'Capability', 'ACPower', 'NeedsUpdate', 'FirstBoot', 'PathExists',
  'PathExistsGlob', 'PathIsDirectory', 'PathIsSymbolicLink', 'PathIsMountPoint', 'PathIsReadWrite',
  'PathIsEncrypted', 'DirectoryNotEmpty', 'FileNotEmpty', 'FileIsExecutable', 'User', 'Group',
  'ControlGroupController', 'CPUs', 'Memory', 'Environment', 'CPUFeature', 'OSRelease', 'MemoryPressure',
  'CPUPressure', 'IOPressure', 'KernelModuleLoaded', 'Null',
];

/** Checks whose value is a path: systemd simplifies it and ignores the line unless it is absolute. */
export const PATH_CONDITION_CHECKS: ReadonlySet<string> = new Set([
  'PathExists', 'PathExistsGlob', 'PathIsDirectory', 'PathIsSymbolicLink', 'PathIsMountPoint',
  'PathIsReadWrite', 'PathIsEncrypted', 'DirectoryNotEmpty', 'FileNotEmpty', 'FileIsExecutable', 'NeedsUpdate',
]);

export type ConditionListKind = 'Condition' | 'Assert';

export interface UnitCondition {
  kind: ConditionListKind;
  /** The check without its prefix: `PathExists`, `Host`, ... */
  check: string;
  /** `|`: the unit runs if any triggering condition holds (and every other one does). */
  trigger: boolean;
  /** `!`: the check's result is inverted. */
  negate: boolean;
  /** The value after the `|` and `!` prefixes, specifiers not expanded. */
  parameter: string;
  /** The line as written (`ConditionPathExists=|!/dev/kvm`), for messages. */
  line: string;
}

export interface UnitConditions {
  conditions: UnitCondition[];
  asserts: UnitCondition[];
}

const KNOWN = new Set(SYSTEMD_CONDITION_CHECKS);
const WHITESPACE = /^[ \t\n\r]*/;

/** Splits `ConditionFoo`/`AssertFoo` into its list and check; undefined for any other key. */
export function conditionKey(name: string): { kind: ConditionListKind; check: string } | undefined {
  for (const kind of ['Condition', 'Assert'] as const) {
    if (name.startsWith(kind) && KNOWN.has(name.slice(kind.length))) return { kind, check: name.slice(kind.length) };
  }
  return undefined;
}

/** The effective Condition and Assert lists of a unit, in file order, after empty-assignment resets. */
export function parseConditions(file: UnitFile): UnitConditions {
  const out: UnitConditions = { conditions: [], asserts: [] };
  for (const opt of file.options) {
    if (opt.section !== CONDITION_SECTION) continue;
    const key = conditionKey(opt.name);
    if (!key) continue;
    const list = key.kind === 'Condition' ? 'conditions' : 'asserts';
    if (opt.value === '') {
      out[list] = [];
      continue;
    }
    let rest = opt.value;
    const trigger = rest.startsWith('|');
    if (trigger) rest = skipWhitespace(rest.slice(1));
    const negate = rest.startsWith('!');
    if (negate) rest = skipWhitespace(rest.slice(1));
    out[list].push({ ...key, trigger, negate, parameter: rest, line: `${opt.name}=${opt.value}` });
  }
  return out;
}

function skipWhitespace(s: string): string {
  return s.replace(WHITESPACE, '');
}

/**
 * systemd's path_simplify for a condition path: duplicate slashes and `.`
 * components go, a trailing slash goes; `..` stays. Undefined when the path
 * is not absolute (systemd ignores such a line).
 */
export function simplifyConditionPath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}
