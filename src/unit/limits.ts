/**
 * Every size limit on a unit, decided once. flotctl refuses a unit that
 * breaks one at submit; the engine does not place a stored unit that breaks
 * one (copies already running stay where they run; `flotctl why` shows the
 * reason); the agent refuses to bid for one. So the client never accepts what
 * the cluster will not run, and no accepted unit can cost any component more
 * than a few milliseconds to judge (see test/bench/adversarial.ts).
 *
 * The numbers are far above what real units use (fleet's and the Kubernetes
 * units in units/ use a few options per key and patterns of a few dozen
 * characters) and documented in the README ("Limits").
 */
import { Buffer } from 'node:buffer';
import { conditionKey, CONDITION_SECTION } from './conditions.js';
import { isGlob } from './glob.js';
import type { UnitRequirements } from './requirements.js';
import type { UnitFile } from './unit-file.js';

export const UNIT_LIMITS = {
  /**
   * A unit name, in UTF-8 bytes: systemd's (its UNIT_NAME_MAX of 256 counts
   * the terminating NUL), and the longest file name Linux file systems allow,
   * so the agent can always write the unit's file under its name.
   */
  nameBytes: 255,
  /** A unit file as read and as stored (UTF-8 bytes). */
  fileBytes: 256 * 1024,
  /** A line must be shorter than this many bytes (go-systemd's LINE_MAX, which fleet's hashes rely on). */
  lineBytes: 2048,
  /** Options (Name=Value lines) in one unit file. */
  options: 4096,
  /** Values of one [X-Fleet] requirement (MachineOf, Conflicts, Replaces, MachineMetadata), all its lines together. */
  xFleetValues: 64,
  /** One [X-Fleet] value (a unit name, a key=value, a machine id, a plain-name pattern), specifiers expanded. */
  xFleetValueChars: 256,
  /**
   * One Conflicts/Replaces glob (a pattern with * ? [ or \), specifiers
   * expanded. Globs are matched against every unit name the engine weighs;
   * plain names are looked up, so they may be as long as a name.
   */
  xFleetGlobChars: 64,
  /**
   * Globs among one unit's Conflicts or Replaces values: each is matched
   * against every unit name in the cluster (Replaces) or on a machine
   * (Conflicts), so they, not plain names, set what a unit costs the engine.
   */
  xFleetGlobs: 16,
  /** Condition and Assert lines of the [Unit] section. */
  conditions: 64,
  /** One ConditionHost=/AssertHost= glob, specifiers expanded (hostnames have at most 64). */
  hostPatternChars: 256,
  /** Any other Condition/Assert value (paths, kernel command line words, variables), specifiers expanded. */
  conditionValueChars: 1024,
} as const;

const KIB = 1024;

/** Why a unit file of `bytes` UTF-8 bytes is refused, or undefined. */
export function fileSizeProblem(bytes: number): string | undefined {
  if (bytes <= UNIT_LIMITS.fileBytes) return undefined;
  return `unit file is ${Math.ceil(bytes / KIB)} KiB; the limit is ${UNIT_LIMITS.fileBytes / KIB} KiB: move scripts and data into files the unit runs or reads`;
}

/** Why the stored text of a unit is refused, or undefined. */
export function storedTextProblem(text: string): string | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when it can matter.
  if (text.length * 3 <= UNIT_LIMITS.fileBytes) return undefined;
  return fileSizeProblem(Buffer.byteLength(text, 'utf8'));
}

/** Limits on the file as a whole: option count, Condition/Assert lines. */
export function unitFileProblem(file: UnitFile): string | undefined {
  if (file.options.length > UNIT_LIMITS.options) {
    return `unit file has ${file.options.length} options; the limit is ${UNIT_LIMITS.options}: split it into several units`;
  }
  let conditions = 0;
  for (const opt of file.options) {
    if (opt.section !== CONDITION_SECTION) continue;
    const key = conditionKey(opt.name);
    if (!key) continue;
    conditions++;
    const problem = conditionValueProblem(key.check, opt.name, opt.value);
    if (problem !== undefined) return problem;
  }
  if (conditions > UNIT_LIMITS.conditions) {
    return `[Unit] has ${conditions} Condition/Assert lines; the limit is ${UNIT_LIMITS.conditions}: move the checks into an ExecCondition= script`;
  }
  return undefined;
}

/**
 * Why one Condition/Assert value is refused, or undefined. The agent asks
 * again once specifiers are expanded on the host (`name` is the key as
 * written, `check` the check without its prefix).
 */
export function conditionValueProblem(check: string, name: string, value: string): string | undefined {
  const max = check === 'Host' ? UNIT_LIMITS.hostPatternChars : UNIT_LIMITS.conditionValueChars;
  const chars = charCount(value, max);
  if (chars <= max) return undefined;
  return `${name}= is ${chars} characters; the limit is ${max}: shorten it`;
}

/** The [X-Fleet] requirements a unit states, as the engine reads them (specifiers expanded). */
export function requirementsProblem(req: UnitRequirements): string | undefined {
  const lists: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['MachineOf', req.machineOf],
    ['Conflicts', req.conflicts],
    ['Replaces', req.replaces],
    ['MachineMetadata', Object.entries(req.machineMetadata).flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))],
    ['MachineID', req.machineId === undefined ? [] : [req.machineId]],
  ];
  for (const [key, values] of lists) {
    if (values.length > UNIT_LIMITS.xFleetValues) {
      return `[X-Fleet] ${key} has ${values.length} values; the limit is ${UNIT_LIMITS.xFleetValues}: use a glob that covers several units, or split the unit`;
    }
    const globs = key === 'Conflicts' || key === 'Replaces';
    if (globs) {
      const n = values.filter(isGlob).length;
      if (n > UNIT_LIMITS.xFleetGlobs) {
        return `[X-Fleet] ${key} has ${n} globs; the limit is ${UNIT_LIMITS.xFleetGlobs}: merge them into fewer globs, or name the units`;
      }
    }
    for (const v of values) {
      const glob = globs && isGlob(v);
      const max = glob ? UNIT_LIMITS.xFleetGlobChars : UNIT_LIMITS.xFleetValueChars;
      const chars = charCount(v, max);
      if (chars > max) return `[X-Fleet] ${key} ${glob ? 'glob' : 'value'} ${preview(v)} is ${chars} characters; the limit is ${max}: shorten it`;
    }
  }
  return undefined;
}

/** The first limit a parsed unit breaks, file-wide ones first. */
export function unitLimitProblem(file: UnitFile, req: UnitRequirements): string | undefined {
  return unitFileProblem(file) ?? requirementsProblem(req);
}

/** How a stored unit that breaks a limit is reported (engine, agent). */
export function overLimitReason(problem: string): string {
  return `over a limit: ${problem}`;
}

/** Code points in `s`; exact up to `max`, and at least max + 1 beyond (cheap for huge values). */
function charCount(s: string, max: number): number {
  if (s.length <= max) return s.length;
  if (s.length > 2 * max) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function preview(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}
