/** list-units: what systemd reports for each unit on each machine (fleet's list_units.go). */
import type { Command } from 'commander';
import { shownActive } from '../../client/state-view.js';
import { machineFullLegend } from '../../client/legend.js';
import type { MachineSummary, UnitStateView } from '../../client/types.js';
import { shortHash } from '../../unit/short-hash.js';
import { type FieldSet, orDash } from '../fields.js';
import type { Session } from '../session.js';
import { type ListOptions, listOptions, printList, selectFields, withListOptions } from './list-options.js';

interface Row {
  state: UnitStateView;
  machine: MachineSummary | undefined;
}

const FIELDS: FieldSet<Row> = {
  unit: { text: (r) => r.state.name, json: (r) => r.state.name },
  load: { text: (r) => r.state.load, json: (r) => r.state.load },
  // `failed` where the agent reports a failure (see the failure field), else systemd's ActiveState.
  active: { text: (r) => shownActive(r.state), json: (r) => shownActive(r.state) },
  sub: { text: (r) => r.state.sub, json: (r) => r.state.sub },
  machine: {
    text: (r, c) => (r.state.machineId ? machineFullLegend(r.machine ?? { id: r.state.machineId }, c.full) : '-'),
    json: (r) => r.state.machineId || null,
  },
  hash: {
    text: (r, c) => orDash(c.full ? r.state.hash : shortHash(r.state.hash)),
    json: (r) => r.state.hash || null,
  },
  failure: { text: (r) => orDash(r.state.failure), json: (r) => r.state.failure ?? null },
};

const DEFAULTS = ['unit', 'machine', 'active', 'sub'];
/** fleet's table columns stay; JSON readers get the failure reason without asking. */
const JSON_DEFAULTS = [...DEFAULTS, 'failure'];

export function registerListUnits(program: Command, session: Session): void {
  withListOptions(
    program.command('list-units').description('list the current state of units in the cluster'),
    Object.keys(FIELDS),
    DEFAULTS,
  ).action((opts: Record<string, unknown>) => listUnits(session, listOptions(opts)));
}

/** The command itself, apart from its flags' parsing: commander's action and the fast path (list-request.ts) both run it. */
export async function listUnits(session: Session, o: ListOptions): Promise<void> {
  const fields = selectFields(FIELDS, session.globals.json ? JSON_DEFAULTS : DEFAULTS, o);
  const client = await session.cluster();
  const [states, machines] = await Promise.all([client.listUnitStates(), client.listMachines()]);
  const byId = new Map(machines.map((m) => [m.id, m]));
  printList(session, states.map((state) => ({ state, machine: byId.get(state.machineId) })), fields, FIELDS, o);
}
