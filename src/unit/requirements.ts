/**
 * Typed view of a unit's [X-Fleet] section (fleet's job/job.go) and the
 * option-combination rules fleet enforces before accepting a unit
 * (api.ValidateOptions).
 */
import { InvalidInputError } from '../util/errors.js';
import { compileGlob, prepareName } from './glob.js';
import { goFields } from './go-strings.js';
import { parseUnitName } from './name.js';
import { expandSpecifiers } from './specifiers.js';
import type { UnitFile } from './unit-file.js';

export const X_FLEET_SECTION = 'X-Fleet';

export interface UnitRequirements {
  /** MachineID, else X-ConditionMachineID, else X-ConditionMachineBootID (first non-empty value). */
  machineId?: string;
  /** Peers: MachineOf + X-ConditionMachineOf; exact unit names. */
  machineOf: string[];
  /** key -> allowed values: every key must match (AND), any listed value per key (OR). */
  machineMetadata: Record<string, string[]>;
  /** Conflicts + X-Conflicts, whitespace-split into path.Match globs. */
  conflicts: string[];
  /** Replaces globs (not whitespace-split). */
  replaces: string[];
  global: boolean;
  /**
   * What a host cut off from the cluster store does with the unit (Flotilla's
   * own key): `keep` runs it on (fleet's behaviour; a copy may start
   * elsewhere), `stop` stops it before a replacement can start (at most once).
   */
  onDisconnect: OnDisconnect;
}

export type OnDisconnect = 'keep' | 'stop';
const ON_DISCONNECT: readonly OnDisconnect[] = ['keep', 'stop'];

/** Every key fleet understands, including deprecated spellings. */
export const KNOWN_REQUIREMENT_KEYS: readonly string[] = [
  'MachineID', 'X-ConditionMachineID', 'X-ConditionMachineBootID',
  'MachineOf', 'X-ConditionMachineOf',
  'MachineMetadata', 'X-ConditionMachineMetadata',
  'Conflicts', 'X-Conflicts',
  'Global', 'Replaces',
  'OnDisconnect',
];

/**
 * fleet's parseMultivalueLine: a value that both starts and ends with '"' is
 * a list of quoted words separated by single spaces (`"a=b" "c=d"`), quotes
 * dropped and spaces inside quotes kept; any other value is one item.
 */
export function parseMultivalueLine(line: string): string[] {
  if (!line.startsWith('"') || !line.endsWith('"')) return [line];
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ' ' && !quoted) {
      values.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  values.push(current);
  return values;
}

/**
 * Reads [X-Fleet] with fleet's multi-value splitting and specifier expansion
 * for `unitName`. Pass "" when there is no name yet (the API validates
 * options before naming them): specifiers are then left as written, as in
 * fleet. Unknown keys are not errors, only warnings for the caller to show.
 */
export function parseRequirements(
  unit: UnitFile,
  unitName: string,
): { requirements: UnitRequirements; warnings: string[] } {
  const info = unitName.includes('.') ? parseUnitName(unitName) : undefined;
  const byKey = new Map<string, string[]>();
  for (const opt of unit.options) {
    if (opt.section !== X_FLEET_SECTION) continue;
    let list = byKey.get(opt.name);
    if (!list) byKey.set(opt.name, (list = []));
    for (const item of parseMultivalueLine(opt.value)) list.push(info ? expandSpecifiers(item, info) : item);
  }
  const get = (key: string): string[] => byKey.get(key) ?? [];

  const warnings = [...byKey.keys()]
    .filter((key) => !KNOWN_REQUIREMENT_KEYS.includes(key))
    .map((key) => {
      const message = `unrecognized requirement in [X-Fleet] section: ${JSON.stringify(key)}`;
      return unitName === '' ? message : `Unit ${unitName}: ${message}`;
    });

  const machineId = ['MachineID', 'X-ConditionMachineID', 'X-ConditionMachineBootID']
    .map((key) => nonEmpty(get(key))[0])
    .find((id) => id !== undefined);

  const globals = get('Global');
  const onDisconnect = get('OnDisconnect').at(-1)?.trim().toLowerCase() ?? 'keep';
  if (!(ON_DISCONNECT as readonly string[]).includes(onDisconnect)) {
    throw new InvalidInputError(`[X-Fleet] OnDisconnect=${onDisconnect} is invalid: use keep (default) or stop`);
  }
  const requirements: UnitRequirements = {
    machineOf: unique(nonEmpty([...get('MachineOf'), ...get('X-ConditionMachineOf')])),
    machineMetadata: parseMetadata([...get('MachineMetadata'), ...get('X-ConditionMachineMetadata')]),
    conflicts: unique([...get('Conflicts'), ...get('X-Conflicts')].flatMap(goFields)),
    replaces: unique(nonEmpty(get('Replaces'))),
    global: globals.length > 0 && isTruthy(globals[globals.length - 1]!),
    onDisconnect: onDisconnect as OnDisconnect,
  };
  if (machineId !== undefined) requirements.machineId = machineId;
  return { requirements, warnings };
}

/** fleet's isTruthyValue. */
export function isTruthy(value: string): boolean {
  return ['true', 'yes', '1', 'on', 't'].includes(value.toLowerCase());
}

// Items that do not split into exactly two non-empty parts on "=" are
// ignored, as in fleet (so a value containing "=" can never be required).
function parseMetadata(items: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const parts = item.split('=');
    if (parts.length !== 2) continue;
    const [key, value] = parts as [string, string];
    if (key.length === 0 || value.length === 0) continue;
    const existing = Object.hasOwn(out, key) ? out[key]! : undefined;
    if (existing === undefined) {
      // defineProperty so a key like "__proto__" becomes data, not a prototype.
      Object.defineProperty(out, key, { value: [value], enumerable: true, writable: true, configurable: true });
    } else if (!existing.includes(value)) {
      existing.push(value);
    }
  }
  return out;
}

function nonEmpty(values: readonly string[]): string[] {
  return values.filter((v) => v.length > 0);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * fleet's option-combination rules; throws InvalidInputError with fleet's
 * exact message for the first violation.
 */
export function validateRequirements(req: UnitRequirements): void {
  // Every peer is matched against every pattern: each compiled and prepared once.
  const peers = req.machineOf.map((p) => [p, prepareName(p)] as const);
  for (const [kind, patterns] of [['conflict', req.conflicts], ['replace', req.replaces]] as const) {
    if (peers.length === 0 || patterns.length === 0) continue;
    const globs = patterns.map((p) => [p, compileGlob(p)] as const);
    for (const [peer, prepared] of peers) {
      const hit = globs.find(([, glob]) => glob.testPrepared(prepared));
      if (hit !== undefined) {
        throw new InvalidInputError(`unresolvable requirements: peer ${JSON.stringify(peer)} matches ${kind} ${JSON.stringify(hit[0])}`);
      }
    }
  }
  const hasMachineId = req.machineId !== undefined && req.machineId.length > 0;
  const hasPeers = req.machineOf.length > 0;
  const hasConflicts = req.conflicts.length > 0;
  const hasReplaces = req.replaces.length > 0;
  const rules: ReadonlyArray<readonly [boolean, string]> = [
    [hasMachineId && hasPeers, 'MachineID cannot be used with Peers'],
    [hasMachineId && hasConflicts, 'MachineID cannot be used with Conflicts'],
    [hasMachineId && req.global, 'MachineID cannot be used with Global'],
    [hasMachineId && hasReplaces, 'MachineID cannot be used with Replaces'],
    [req.global && hasPeers, 'Global cannot be used with Peers'],
    [req.global && hasReplaces, 'Global cannot be used with Replaces'],
    [hasConflicts && hasReplaces, 'Conflicts cannot be used with Replaces'],
  ];
  const hit = rules.find(([violated]) => violated);
  if (hit) throw new InvalidInputError(hit[1]);
}
