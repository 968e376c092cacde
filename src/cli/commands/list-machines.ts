/** list-machines: the machines in the cluster (fleet's list_machines.go). */
import type { Command } from 'commander';
import { machineIdLegend } from '../../client/legend.js';
import type { MachineSummary } from '../../client/types.js';
import { type FieldSet, orDash } from '../fields.js';
import type { Session } from '../session.js';
import { type ListOptions, listOptions, printList, selectFields, withListOptions } from './list-options.js';

/** "k=v" pairs sorted by key, joined by ","; "-" if there are none. */
export function formatMetadata(metadata: Readonly<Record<string, string>>): string {
  const keys = Object.keys(metadata).sort();
  return keys.length === 0 ? '-' : keys.map((k) => `${k}=${metadata[k]}`).join(',');
}

const FIELDS: FieldSet<MachineSummary> = {
  machine: { text: (m, c) => machineIdLegend(m.id, c.full), json: (m) => m.id },
  ip: { text: (m) => orDash(m.publicIP), json: (m) => m.publicIP || null },
  metadata: { text: (m) => formatMetadata(m.metadata), json: (m) => m.metadata },
  // Not in fleet's default columns: `--fields machine,version` shows a cluster part-way through an upgrade.
  version: { text: (m) => orDash(m.version), json: (m) => m.version || null },
};

const DEFAULTS = ['machine', 'ip', 'metadata'];

export function registerListMachines(program: Command, session: Session): void {
  withListOptions(
    program.command('list-machines').description('list the machines in the cluster'),
    Object.keys(FIELDS),
    DEFAULTS,
  ).action((opts: Record<string, unknown>) => listMachines(session, listOptions(opts)));
}

/** The command itself, apart from its flags' parsing: commander's action and the fast path (list-request.ts) both run it. */
export async function listMachines(session: Session, o: ListOptions): Promise<void> {
  const fields = selectFields(FIELDS, DEFAULTS, o);
  const machines = await (await session.cluster()).listMachines();
  printList(session, machines, fields, FIELDS, o);
}
