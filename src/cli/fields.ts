/**
 * --fields for the list commands: which columns to print, validated with
 * fleet's messages, and how each column renders as text and as JSON.
 */
import { InvalidInputError } from '../util/errors.js';

export interface FieldContext {
  /** --full: whole machine ids and hashes. */
  full: boolean;
}

export interface Field<R> {
  text(row: R, ctx: FieldContext): string;
  /** Untruncated value for --json; null where the table prints "-". */
  json(row: R): unknown;
}

export type FieldSet<R> = Readonly<Record<string, Field<R>>>;

/** Parses a --fields value; undefined means the command's default. */
export function parseFields(spec: string | undefined, allowed: readonly string[], defaults: readonly string[]): string[] {
  if (spec === undefined) return [...defaults];
  if (spec === '') throw new InvalidInputError('Must define output format');
  const fields = spec.split(',');
  for (const f of fields) {
    if (!allowed.includes(f)) throw new InvalidInputError(`Invalid key in output format: ${JSON.stringify(f)}`);
  }
  return fields;
}

export function textRows<R>(rows: readonly R[], fields: readonly string[], set: FieldSet<R>, ctx: FieldContext): string[][] {
  const cols = fields.map((f) => set[f] as Field<R>);
  return rows.map((row) => cols.map((c) => c.text(row, ctx)));
}

export function jsonRows<R>(rows: readonly R[], fields: readonly string[], set: FieldSet<R>): Array<Record<string, unknown>> {
  const cols = fields.map((f) => [f, set[f] as Field<R>] as const);
  return rows.map((row) => Object.fromEntries(cols.map(([name, c]) => [name, c.json(row)])));
}

/** fleet prints "-" for empty values. */
export function orDash(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : value;
}
