/**
 * A unit's stored text as the engine and the agents read it: parsed once per
 * content hash, or the reason it cannot be used. Text over the size limit is
 * not even parsed. Such content was stored before a limit existed or written
 * around flotctl; nothing running it is stopped, it is only not placed again.
 */
import { overLimitReason, storedTextProblem, unitFileProblem } from './limits.js';
import { UnitFile } from './unit-file.js';
import { errorMessage } from '../util/errors.js';

export function readStoredUnit(text: string): UnitFile | string {
  const tooBig = storedTextProblem(text);
  if (tooBig !== undefined) return overLimitReason(tooBig);
  let file: UnitFile;
  try {
    file = UnitFile.parse(text);
  } catch (err) {
    return `stored unit file does not parse: ${errorMessage(err)}`;
  }
  const problem = unitFileProblem(file);
  return problem === undefined ? file : overLimitReason(problem);
}
