/**
 * Feasibility filters, one policy each (kube-scheduler style). A unit goes
 * only to candidates every filter lets through; the first refusal is the
 * reason shown. Cheap, self-contained checks come first so the reason users
 * see is the most basic one.
 */
import type { Filter } from '../types.js';
import { conflictsFilter } from './conflicts.js';
import { hostAccepted, notAlreadyThere } from './host.js';
import { machineIdFilter } from './machine-id.js';
import { metadataFilter } from './metadata.js';
import { peersFilter } from './peers.js';
import { replacedFilter } from './replaces.js';

export { fairShareCap, fairShareFilter } from './fair-share.js';
export { conflictBetween, conflictsFilter, ConflictObjectors, firstConflict } from './conflicts.js';
export { hostAccepted, notAlreadyThere } from './host.js';
export { machineIdFilter, machineIdMismatch, matchesMachineId } from './machine-id.js';
export { metadataFilter, metadataMismatch } from './metadata.js';
export { peersFilter } from './peers.js';
export { replacedFilter } from './replaces.js';

export const defaultFilters: readonly Filter[] = [
  notAlreadyThere,
  machineIdFilter,
  metadataFilter,
  hostAccepted,
  peersFilter,
  conflictsFilter,
  replacedFilter,
];
