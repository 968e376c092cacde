/**
 * [X-Fleet] MachineMetadata: every key required (AND), any listed value per
 * key (OR). The host checks this when it bids; the engine checks it too, with
 * config metadata overlaid by dynamic metadata, so that a unit is never placed
 * where re-evaluation would immediately unschedule it.
 */
import { reasons } from '../reasons.js';
import type { Filter } from '../types.js';

export function metadataMismatch(
  required: Readonly<Record<string, readonly string[]>>,
  metadata: Readonly<Record<string, string>>,
): string | undefined {
  for (const key of Object.keys(required).sort()) {
    const allowed = required[key] ?? [];
    const actual = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
    if (actual === undefined || !allowed.includes(actual)) return reasons.metadata(key, allowed, actual);
  }
  return undefined;
}

/** Only when the caller knows the candidate's metadata; otherwise the host's bid is the authority. */
export const metadataFilter: Filter = (req, candidate) =>
  candidate.metadata === undefined ? undefined : metadataMismatch(req.requirements.machineMetadata, candidate.metadata);
