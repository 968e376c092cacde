/**
 * Everything fleet checks before it accepts a unit (fleetctl's client-side
 * checks and the API's PUT create), in one call.
 */
import { validateUnitName } from './name.js';
import { parseRequirements, validateRequirements, type UnitRequirements } from './requirements.js';
import { UnitFile } from './unit-file.js';

/**
 * An option list must survive serialize + parse (catches values with bare
 * newlines, over-long lines, names containing "="...). Throws UnitFileError
 * whose line number refers to the serialized form.
 */
export function validateUnitFile(unit: UnitFile): void {
  UnitFile.parse(unit.serialize());
}

/**
 * Name (when given), round trip, then [X-Fleet] rules. Returns the parsed
 * requirements and the unknown-key warnings the caller should print.
 */
export function validateUnit(
  unit: UnitFile,
  unitName = '',
): { requirements: UnitRequirements; warnings: string[] } {
  if (unitName !== '') validateUnitName(unitName);
  validateUnitFile(unit);
  const parsed = parseRequirements(unit, unitName);
  validateRequirements(parsed.requirements);
  return parsed;
}
