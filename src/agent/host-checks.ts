/**
 * What only the host can decide about a unit before bidding for it. The
 * engine sees the whole cluster; the agent sees its own machine (effective
 * metadata, files, devices, kernel), and says here which offered units it
 * must refuse and why, in words a user reads in `list-units`.
 */
import { parseConditions, parseRequirements, type UnitFile } from '../unit/index.js';
import { errorMessage } from '../util/errors.js';
import { conditionsRefusal } from './conditions.js';
import type { HostFacts } from './host-facts.js';

export type { HostFacts } from './host-facts.js';

/**
 * Undefined if this host can run the unit, else the reason it cannot.
 * `unit` is the offered name: [X-Fleet] specifiers (%i, %p, ...) and systemd
 * specifiers in conditions expand with it, so instances of one template can
 * land on different hosts.
 */
export async function refusalReason(unit: string, file: UnitFile, host: HostFacts): Promise<string | undefined> {
  let required: Record<string, string[]>;
  try {
    required = parseRequirements(file, unit).requirements.machineMetadata;
  } catch (err) {
    return `cannot read [X-Fleet] requirements: ${errorMessage(err)}`;
  }
  return metadataRefusal(required, host.metadata) ?? (await conditionsRefusal(parseConditions(file), unit, host));
}

/** fleet's MachineMetadata rule: every key must be present (AND), with one of its listed values (OR). */
export function metadataRefusal(required: Readonly<Record<string, readonly string[]>>, have: Readonly<Record<string, string>>): string | undefined {
  for (const [key, values] of Object.entries(required)) {
    const actual = Object.hasOwn(have, key) ? have[key] : undefined;
    if (actual !== undefined && values.includes(actual)) continue;
    const wanted = values.map((v) => `${key}=${v}`).join(' or ');
    const hostHas = actual === undefined ? `no ${key}` : `${key}=${actual}`;
    return `MachineMetadata ${wanted} not met (host has ${hostHas})`;
  }
  return undefined;
}
