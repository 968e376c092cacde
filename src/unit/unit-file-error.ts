import { InvalidInputError } from '../util/errors.js';

/**
 * A unit file that cannot be parsed. `line` is 1-based and points at the
 * line where the problem starts, so editors and users can jump straight to it.
 */
export class UnitFileError extends InvalidInputError {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`unit file line ${line}: ${detail}`);
  }
}
