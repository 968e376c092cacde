import type { UnitRequirements } from '../unit/requirements.js';

/** Requirements of a unit whose content the caller could not read: no constraints. */
export const noRequirements: UnitRequirements = Object.freeze({
  machineOf: [],
  machineMetadata: {},
  conflicts: [],
  replaces: [],
  global: false,
  onDisconnect: 'keep',
});
