/**
 * What only the host can decide about a unit before bidding for it. The
 * engine sees the whole cluster; the agent sees its own machine (effective
 * metadata, files, devices, kernel), and says here which offered units it
 * must refuse and why, in words a user reads in `list-units`.
 */
import { overLimitReason, parseConditions, parseRequirements, unitLimitProblem, type UnitConditions, type UnitFile } from '../unit/index.js';
import { errorMessage } from '../util/errors.js';
import { metadataMismatch } from '../scheduler/filters/metadata.js';
import { conditionsRefusal } from './conditions.js';
import type { HostFacts } from './host-facts.js';

export type { HostFacts } from './host-facts.js';

/** What a host checks of a unit: its MachineMetadata and its Conditions, or why they cannot be read. */
interface HostChecks {
  required: Record<string, string[]>;
  conditions: UnitConditions;
}

/** Checks of name-independent content (judged with the name ''), parsed once per file. */
const shared = new WeakMap<UnitFile, HostChecks | string>();

function checksOf(unit: string, file: UnitFile): HostChecks | string {
  const memo = unit === '' ? shared.get(file) : undefined;
  if (memo !== undefined) return memo;
  let checks: HostChecks | string;
  try {
    const requirements = parseRequirements(file, unit).requirements;
    // The engine does not offer such a unit; an engine of another version might.
    const problem = unitLimitProblem(file, requirements);
    checks = problem !== undefined ? overLimitReason(problem) : { required: requirements.machineMetadata, conditions: parseConditions(file) };
  } catch (err) {
    checks = `cannot read [X-Fleet] requirements: ${errorMessage(err)}`;
  }
  if (unit === '') shared.set(file, checks);
  return checks;
}

/**
 * Undefined if this host can run the unit, else the reason it cannot.
 * `unit` is the offered name: [X-Fleet] specifiers (%i, %p, ...) and systemd
 * specifiers in conditions expand with it, so instances of one template can
 * land on different hosts. Content whose verdict does not depend on the name
 * is judged with the name ''.
 */
export async function refusalReason(unit: string, file: UnitFile, host: HostFacts): Promise<string | undefined> {
  const checks = checksOf(unit, file);
  if (typeof checks === 'string') return checks;
  return metadataMismatch(checks.required, host.metadata) ?? (await conditionsRefusal(checks.conditions, unit, host));
}

/**
 * fleet's MachineMetadata rule has one home, the scheduler's filter, so the
 * engine, the host's bid and the client word a refusal the same way.
 */
export { metadataMismatch as metadataRefusal } from '../scheduler/filters/metadata.js';
