/**
 * Everything fleet checks before it accepts a unit (fleetctl's client-side
 * checks and the API's PUT create), in one call, plus what fleet did not:
 * the stored copy must read back as exactly the options that were checked,
 * and the unit must be within the limits every component enforces.
 */
import { InvalidInputError } from '../util/errors.js';
import { storedTextProblem, requirementsProblem, unitFileProblem } from './limits.js';
import { validateUnitName } from './name.js';
import { parseRequirements, validateRequirements, type UnitRequirements } from './requirements.js';
import { UnitFile, groupBySection, type UnitOption } from './unit-file.js';

/**
 * What is stored is `unit.serialize()`, and the engine and agents parse that
 * text, not the options checked here. So it must parse back to the same
 * options (grouped by section, which is how serialization orders them and
 * how every reader looks them up), not merely parse. Catches values with bare
 * newlines, over-long lines, names containing "=", and values ending in a
 * backslash (written "\ " or at the very end of a file): stored, such a value
 * would continue onto the next line and swallow it. Lines systemd would read
 * differently (see systemdLineProblem) are refused too. Throws UnitFileError
 * (line numbers of the serialized form) or InvalidInputError naming the
 * option.
 */
export function validateUnitFile(unit: UnitFile): void {
  const text = unit.serialize();
  const tooBig = storedTextProblem(text);
  if (tooBig !== undefined) throw new InvalidInputError(tooBig);
  const back = UnitFile.parse(text).options;
  const want = [...groupBySection(unit.options).values()].flat();
  for (let i = 0; i < Math.max(back.length, want.length); i++) {
    const w = want[i];
    const b = back[i];
    if (w !== undefined && b !== undefined && sameOption(w, b)) continue;
    throw new InvalidInputError(roundTripMessage(w ?? b!, b));
  }
  for (const o of want) {
    const problem = systemdLineProblem(o);
    if (problem !== undefined) throw new InvalidInputError(`[${o.section}] ${o.name}=: ${problem}`);
  }
}

/**
 * What systemd's own parser would read differently from the stored lines (the
 * agent hands systemd that text): it ends a line at a carriage return or NUL
 * anywhere, ignores a line without a key, and does not continue a line that
 * ends in an escaped backslash ("\\"), which fleet's parser (and so the
 * engine's) does continue. fleet accepted all of these.
 */
function systemdLineProblem(o: UnitOption): string | undefined {
  if (o.name === '') return 'an option without a name is ignored by systemd: name it or remove the line';
  const text = o.section + o.name + o.value;
  if (text.includes('\r')) return 'contains a carriage return (U+000D) that is not part of a line end, which systemd reads as a line break: remove it';
  if (text.includes('\0')) return 'contains a NUL character, which systemd reads as a line break: remove it';
  const lines = o.value.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    // A blank line after it ends the value for both parsers.
    if (lines[i + 1] === '' && i + 1 === lines.length - 1) break;
    const run = trailingBackslashes(lines[i]!);
    if (run >= 2 && run % 2 === 0) {
      return `line ${i + 1} of the value ends in an escaped backslash ("\\\\"), which systemd does not continue onto the next line (fleet does): end the line with an odd number of backslashes`;
    }
  }
  return undefined;
}

function trailingBackslashes(line: string): number {
  let n = 0;
  while (n < line.length && line[line.length - 1 - n] === '\\') n++;
  return n;
}

/**
 * Name (when given), round trip, limits, then [X-Fleet] rules, all judged on
 * the stored form. Returns the parsed requirements and the unknown-key
 * warnings the caller should print.
 */
export function validateUnit(
  unit: UnitFile,
  unitName = '',
): { requirements: UnitRequirements; warnings: string[] } {
  if (unitName !== '') validateUnitName(unitName);
  validateUnitFile(unit);
  const fileProblem = unitFileProblem(unit);
  if (fileProblem !== undefined) throw new InvalidInputError(fileProblem);
  const parsed = parseRequirements(unit, unitName);
  const reqProblem = requirementsProblem(parsed.requirements);
  if (reqProblem !== undefined) throw new InvalidInputError(reqProblem);
  validateRequirements(parsed.requirements);
  return parsed;
}

function sameOption(a: UnitOption, b: UnitOption): boolean {
  return a.section === b.section && a.name === b.name && a.value === b.value;
}

function roundTripMessage(want: UnitOption, got: UnitOption | undefined): string {
  const where = `[${want.section}] ${want.name}=`;
  if (want.value.endsWith('\\')) {
    return `${where}: the value ends in a backslash, which the stored copy would read as a line continuation, swallowing the next line; remove the backslash (or the space after it)`;
  }
  const back = got === undefined ? 'nothing' : JSON.stringify(`${got.name}=${got.value}`);
  return `${where}: cannot be stored as written (it would read back as ${back}); check the option's name and value for stray "=", "[", "]" or surrounding whitespace`;
}
