/** list-unit-files: every unit with its desired and current state (fleet's list_unit_files.go). */
import type { Command } from 'commander';
import { machineFullLegend } from '../../client/legend.js';
import { reasonLines, summarizeReasons } from '../../client/reasons.js';
import type { MachineSummary, UnitSummary } from '../../client/types.js';
import type { InventoryRecord } from '../../registry/records.js';
import { shortHash } from '../../unit/short-hash.js';
import { type FieldSet, orDash } from '../fields.js';
import type { Session } from '../session.js';
import { listOptions, printList, selectFields, withListOptions } from './list-options.js';
import { commitCell } from './sources.js';

interface Row {
  unit: UnitSummary;
  machines: ReadonlyMap<string, MachineSummary>;
  /** The source that owns the unit, with the provenance of its last write; read only when asked for. */
  owner?: InventoryRecord | undefined;
}

function target(r: Row, full: boolean): string {
  if (r.unit.global) return 'global';
  if (!r.unit.machineId) return '-';
  return machineFullLegend(r.machines.get(r.unit.machineId) ?? { id: r.unit.machineId }, full);
}

/** Why no machine takes the unit, one line for all machines; `flotctl why` has one line per machine. */
function reason(r: Row, full: boolean): string {
  return r.unit.unplaced ? summarizeReasons(reasonLines(r.unit.unplaced, r.machines, full)) : '-';
}

const targetJson = (r: Row): string | null => (r.unit.global ? 'global' : (r.unit.machineId ?? null));

const FIELDS: FieldSet<Row> = {
  unit: { text: (r) => r.unit.name, json: (r) => r.unit.name },
  hash: { text: (r, c) => orDash(c.full ? r.unit.hash : shortHash(r.unit.hash)), json: (r) => r.unit.hash || null },
  dstate: { text: (r) => orDash(r.unit.desiredState), json: (r) => r.unit.desiredState },
  state: {
    text: (r) => (r.unit.global ? '-' : orDash(r.unit.currentState)),
    json: (r) => (r.unit.global ? null : r.unit.currentState),
  },
  target: { text: (r, c) => target(r, c.full), json: targetJson },
  tmachine: { text: (r, c) => target(r, c.full), json: targetJson },
  global: { text: (r) => String(r.unit.global), json: (r) => r.unit.global },
  desc: { text: (r) => orDash(r.unit.description), json: (r) => r.unit.description ?? null },
  // Not a fleet column, so not a default: scripts splitting fleet's columns keep working.
  reason: { text: (r, c) => reason(r, c.full), json: (r) => r.unit.unplaced?.reasons ?? null },
  // Provenance (flotctl sync): the owning source, and the commit its last write of the unit came from.
  source: { text: (r) => orDash(r.owner?.source), json: (r) => r.owner?.source ?? null },
  commit: {
    text: (r, c) => commitCell(r.owner?.commit, r.owner?.dirty, c.full),
    json: (r) => (r.owner ? { commit: r.owner.commit || null, dirty: r.owner.dirty, at: r.owner.at } : null),
  },
};

const PROVENANCE_FIELDS = ['source', 'commit'];

const DEFAULTS = ['unit', 'hash', 'dstate', 'state', 'target'];

export function registerListUnitFiles(program: Command, session: Session): void {
  withListOptions(
    program.command('list-unit-files').description('list the units that exist in the cluster'),
    Object.keys(FIELDS),
    DEFAULTS,
  ).action(async (opts: Record<string, unknown>) => {
    const o = listOptions(opts);
    const fields = selectFields(FIELDS, DEFAULTS, o);
    if (fields.includes('tmachine')) session.output.err('WARNING: The "tmachine" field is deprecated. Use "target" instead');
    const client = await session.cluster();
    const provenance = fields.some((f) => PROVENANCE_FIELDS.includes(f));
    const [units, machines, inventory] = await Promise.all([
      client.listUnits(),
      client.listMachines(),
      provenance ? session.sources().then((s) => s.listInventory()) : Promise.resolve([]),
    ]);
    const byId = new Map(machines.map((m) => [m.id, m]));
    // The sources code is loaded only for the provenance columns.
    const owners = provenance ? (await import('../../client/sources/sources.js')).ownersByUnit(inventory) : new Map<string, InventoryRecord>();
    const rows = units.map((unit) => ({ unit, machines: byId, owner: owners.get(unit.name) }));
    printList(session, rows, fields, FIELDS, o);
  });
}
