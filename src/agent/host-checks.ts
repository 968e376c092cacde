/**
 * What only the host can decide about a unit before bidding for it. The
 * engine sees the whole cluster; the agent sees its own machine (metadata,
 * files, devices), and says here which offered units it must refuse and why.
 */
import type { UnitFile } from '../unit/index.js';

export interface HostFacts {
  machineId: string;
  metadata: Record<string, string>;
}

/** Returns undefined if this host can run the unit, else the reason it cannot. */
export function refusalReason(_unit: string, _file: UnitFile, _host: HostFacts): string | undefined {
  return undefined;
}
