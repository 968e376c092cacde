/**
 * How a unit's state is shown to people, in a module that imports nothing:
 * list-units loads it at every start, and must not pay for the unit parser.
 */
import type { UnitStateView } from './types.js';

/** ACTIVE as flotctl shows it: `failed` where the agent reports a failure, else what systemd says. */
export function shownActive(s: UnitStateView): string {
  return s.failure !== undefined ? 'failed' : s.active;
}
