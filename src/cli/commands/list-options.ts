/**
 * Options shared by the list commands, and rendering a list as a table or JSON.
 * Commander is a type here only: list-units and list-machines also run without
 * it (list-request.ts), through listOptions and printList.
 */
import type { Command } from 'commander';
import { type FieldSet, jsonRows, parseFields, textRows } from '../fields.js';
import type { Session } from '../session.js';

export interface ListOptions {
  full: boolean;
  legend: boolean;
  fields: string | undefined;
}

export function withListOptions(cmd: Command, allowed: readonly string[], defaults: readonly string[]): Command {
  return cmd
    .option('-l, --full', 'do not abbreviate machine ids and hashes')
    // fleetctl only understood the long form "--l"; keep it working.
    .addOption(cmd.createOption('--l').hideHelp())
    .option('--no-legend', 'do not print a header row')
    .option('--fields <fields>', `columns to print, comma-separated, from: ${allowed.join(', ')}`, undefined)
    .addHelpText('after', `\nDefault fields: ${defaults.join(',')}`);
}

export function listOptions(opts: Record<string, unknown>): ListOptions {
  return {
    full: opts.full === true || opts.l === true,
    legend: opts.legend !== false,
    fields: typeof opts.fields === 'string' ? opts.fields : undefined,
  };
}

/** Validates --fields before any cluster read, so a typo fails fast even with the store down. */
export function selectFields<R>(set: FieldSet<R>, defaults: readonly string[], opts: ListOptions): string[] {
  return parseFields(opts.fields, Object.keys(set), defaults);
}

export function printList<R>(session: Session, rows: readonly R[], fields: readonly string[], set: FieldSet<R>, opts: ListOptions): void {
  if (session.globals.json) {
    session.output.json(jsonRows(rows, fields, set));
    return;
  }
  session.output.table(fields, textRows(rows, fields, set, { full: opts.full }), { legend: opts.legend });
}
