/**
 * Strict shapes of the request bodies: unknown fields, wrong types and
 * missing values are each one 400 naming the field. Field names match
 * case-insensitively, as Go's encoding/json did for fleetd (fleet's own
 * functional tests send `"Value"`), but a field given twice in two spellings
 * is refused. Pure.
 */
import { ApiError } from './errors.js';
import { METADATA_CHANGES_MAX } from '../client/metadata.js';
import type { DesiredState } from '../client/types.js';
import type { UnitOption } from '../unit/index.js';

export const DESIRED_STATES: readonly DesiredState[] = ['inactive', 'loaded', 'launched'];

type Json = Record<string, unknown>;

function bad(message: string): ApiError {
  return new ApiError(400, message);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The object's fields under their schema names; anything else is refused. */
function fields(v: unknown, where: string, known: readonly string[]): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`${where} must be a JSON object, not ${typeName(v)}`);
  const out: Json = {};
  for (const [k, value] of Object.entries(v as Json)) {
    const name = known.find((n) => n.toLowerCase() === k.toLowerCase());
    if (name === undefined) throw bad(`unknown field ${JSON.stringify(k)} in ${where}: known fields are ${known.join(', ')}`);
    if (Object.hasOwn(out, name)) throw bad(`field ${name} is given twice in ${where}`);
    out[name] = value;
  }
  return out;
}

function optString(o: Json, name: string, where: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${where}.${name} must be a string, not ${typeName(v)}`);
  return v;
}

export interface UnitBody {
  name?: string;
  options?: UnitOption[];
  desiredState?: DesiredState;
}

/**
 * fleet's Unit entity as PUT takes it. currentState and machineID are the
 * server's to report: accepted (a client may send back what it read) and ignored.
 */
export function parseUnitBody(v: unknown): UnitBody {
  const o = fields(v, 'the unit', ['name', 'options', 'desiredState', 'currentState', 'machineID']);
  const out: UnitBody = {};
  const name = optString(o, 'name', 'unit');
  if (name !== undefined && name !== '') out.name = name;
  optString(o, 'currentState', 'unit');
  optString(o, 'machineID', 'unit');
  const desired = optString(o, 'desiredState', 'unit');
  if (desired !== undefined && desired !== '') {
    // fleet wrote any value here to etcd on update, and failed with a 500 on create.
    if (!(DESIRED_STATES as readonly string[]).includes(desired)) {
      throw bad(`invalid desiredState ${JSON.stringify(desired)}: use one of ${DESIRED_STATES.join(', ')}`);
    }
    out.desiredState = desired as DesiredState;
  }
  const opts = o.options;
  if (opts !== undefined && opts !== null) {
    if (!Array.isArray(opts)) throw bad(`unit.options must be an array of {section, name, value}, not ${typeName(opts)}`);
    if (opts.length > 0) out.options = opts.map((x, i) => parseOption(x, `unit.options[${i}]`));
  }
  return out;
}

/**
 * /flotilla/v1 unit writes: `{options, desiredState?}` to create or replace
 * (options required), `{desiredState}` to change the desired state.
 */
export function parseFlotillaUnitBody(v: unknown, create: boolean): UnitBody {
  const o = fields(v, 'the unit', create ? ['options', 'desiredState'] : ['desiredState']);
  const body = parseUnitBody(o);
  if (create && !body.options) throw bad('options is missing or empty: give the unit file as [{section, name, value}, ...]');
  return body;
}

function parseOption(v: unknown, where: string): UnitOption {
  const o = fields(v, where, ['section', 'name', 'value']);
  const get = (k: string): string => {
    const s = optString(o, k, where);
    if (s === undefined) throw bad(`${where}.${k} is missing: every option has a section, a name and a value`);
    return s;
  };
  return { section: get('section'), name: get('name'), value: get('value') };
}

export interface MetadataOp {
  op: 'add' | 'replace' | 'remove';
  machineId: string;
  key: string;
  /** Set for add and replace. */
  value?: string;
}

const METADATA_PATH = /^\/([^/]+)\/metadata\/([A-Za-z0-9_.-]+)$/;
const RELATIVE_PATH = /^\/metadata\/([A-Za-z0-9_.-]+)$/;
const OPS = ['add', 'replace', 'remove'] as const;

/**
 * PATCH /machines: a JSON array of `{op, path: "/<machine>/metadata/<key>", value}`.
 * The value is `{"value": "..."}` as fleetd's code took it, or a plain
 * string as fleet's documentation showed it: both are accepted.
 */
export function parseMetadataOps(v: unknown, machine?: string): MetadataOp[] {
  if (!Array.isArray(v)) throw bad(`the body must be a JSON array of metadata operations, not ${typeName(v)}`);
  if (v.length === 0) throw bad('the body holds no operations: send at least one {op, path, value}');
  // Each machine's change is a store transaction; bound the work one request can ask for.
  if (v.length > METADATA_CHANGES_MAX) throw bad(`the body holds ${v.length} operations: send at most ${METADATA_CHANGES_MAX} per request`);
  return v.map((x, i) => parseMetadataOp(x, `operation ${i}`, machine));
}

/** With `machine` (PATCH /flotilla/v1/machines/:id) paths are relative to it: /metadata/<key>. */
function parseMetadataOp(v: unknown, where: string, machine: string | undefined): MetadataOp {
  const o = fields(v, where, ['op', 'path', 'value']);
  const op = optString(o, 'op', where);
  if (!(OPS as readonly (string | undefined)[]).includes(op)) throw bad(`${where}: invalid op ${JSON.stringify(op ?? '')}: expect add, remove, or replace`);
  const path = optString(o, 'path', where) ?? '';
  const m = machine === undefined ? METADATA_PATH.exec(path) : RELATIVE_PATH.exec(path);
  const shape = machine === undefined ? '/<machine id>/metadata/<key>' : '/metadata/<key>';
  if (!m) throw bad(`${where}: machine metadata path ${JSON.stringify(path)} invalid: use ${shape} (key of letters, digits, "_", "." and "-")`);
  const out: MetadataOp = machine === undefined ? { op: op as MetadataOp['op'], machineId: m[1]!, key: m[2]! } : { op: op as MetadataOp['op'], machineId: machine, key: m[1]! };
  if (out.op === 'remove') {
    metadataValue(o.value, where);
    return out;
  }
  const value = metadataValue(o.value, where);
  if (value === undefined || value === '') throw bad(`${where}: invalid value: add and replace require a value`);
  out.value = value;
  return out;
}

function metadataValue(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null || typeof v === 'string') return v ?? undefined;
  const o = fields(v, `${where}.value`, ['value']);
  return optString(o, 'value', `${where}.value`);
}
