/**
 * How placement problems read, shared by `why`, list-unit-files and the
 * blocking commands, so the same unit is explained the same way everywhere.
 */
import { machineFullLegend } from './legend.js';
import { type MachineSummary, NO_LIVE_MACHINE, type Unplaced } from './types.js';

export interface ReasonLine {
  /** Undefined for the "no live machine" entry. */
  machineId?: string;
  /** "113f16a7.../10.0.0.1"; undefined with machineId. */
  legend?: string;
  reason: string;
}

/** Above this many machines sharing a reason, a summary counts them instead of naming them. */
const NAMED_MACHINES_MAX = 3;

/** One entry per machine: the no-machine entry first, then by machine id (byte order, like the lists). */
export function reasonLines(problem: Unplaced, machines: ReadonlyMap<string, MachineSummary>, full: boolean): ReasonLine[] {
  const ids = Object.keys(problem.reasons).sort((a, b) => (a === NO_LIVE_MACHINE ? -1 : b === NO_LIVE_MACHINE ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return ids.map((id) => {
    const reason = problem.reasons[id] ?? '';
    if (id === NO_LIVE_MACHINE) return { reason: reason || 'no machine is live' };
    return { machineId: id, legend: machineFullLegend(machines.get(id) ?? { id }, full), reason };
  });
}

/** "113f16a7.../10.0.0.1: conflicts with b.service" */
export function formatReasonLine(line: ReasonLine): string {
  return line.legend === undefined ? line.reason : `${line.legend}: ${line.reason}`;
}

/**
 * One line for all machines, grouped by reason: "a..., b...: conflicts with
 * x.service; 12 machines: metadata region=eu not matched". Stays short on
 * large clusters; `flotctl why` has the per-machine detail.
 */
export function summarizeReasons(lines: readonly ReasonLine[]): string {
  const groups = new Map<string, string[]>();
  for (const l of lines) {
    const legends = groups.get(l.reason) ?? [];
    if (l.legend !== undefined) legends.push(l.legend);
    groups.set(l.reason, legends);
  }
  return [...groups]
    .map(([reason, legends]) => {
      if (legends.length === 0) return reason;
      const who = legends.length > NAMED_MACHINES_MAX ? `${legends.length} machines` : legends.join(', ');
      return `${who}: ${reason}`;
    })
    .join('; ');
}

/** The machines a problem names, for building legends. */
export function problemMachineIds(problem: Unplaced): string[] {
  return Object.keys(problem.reasons).filter((id) => id !== NO_LIVE_MACHINE);
}
