/**
 * Checks for dynamic machine metadata, pure so every driver (and the CLI,
 * before it connects) refuses the same input with the same words.
 */
import { InvalidInputError } from '../util/errors.js';
import { machineIdLegend } from './legend.js';
import type { MetadataChange } from './types.js';

/** fleet's API path rule for metadata keys. */
const KEY = /^[A-Za-z0-9_.-]+$/;
/** /etc/machine-id: 32 lowercase hex digits. */
const FULL_ID = /^[0-9a-f]{32}$/;
/** One transaction holds every change of a command (see Registry.updateMachineMetadata). */
export const METADATA_CHANGES_MAX = 100;

export function validateMetadataKey(key: string): void {
  if (!KEY.test(key)) {
    throw new InvalidInputError(`invalid metadata key ${JSON.stringify(key)}: use only letters, digits, "_", "." and "-"`);
  }
}

/**
 * Non-empty, as fleet's API. Also refused: what could never be matched or
 * shown back faithfully: "=" (MachineMetadata= ignores such items), ","
 * (list-machines joins pairs with it), '"' (quoted MachineMetadata= words),
 * control characters and surrounding blanks (config metadata is trimmed).
 */
export function validateMetadataValue(key: string, value: string): void {
  if (value === '') {
    throw new InvalidInputError(`metadata value for key ${JSON.stringify(key)} is empty: give ${key}=VALUE, or --remove ${key} to remove the key`);
  }
  const bad = /[=,"\p{Cc}]/u.exec(value);
  if (bad) {
    throw new InvalidInputError(
      `metadata value ${JSON.stringify(value)} for key ${JSON.stringify(key)} contains ${JSON.stringify(bad[0])}: values cannot contain "=", ",", '"' or control characters`,
    );
  }
  if (value.trim() !== value) {
    throw new InvalidInputError(`metadata value ${JSON.stringify(value)} for key ${JSON.stringify(key)} starts or ends with a blank: remove it`);
  }
}

/** Validates a whole change; returns it with keys in a stable order. */
export function validateMetadataChange(change: MetadataChange): { set: Record<string, string>; remove: string[] } {
  const set = { ...(change.set ?? {}) };
  const remove = [...new Set(change.remove ?? [])];
  for (const [k, v] of Object.entries(set)) {
    validateMetadataKey(k);
    validateMetadataValue(k, v);
  }
  for (const k of remove) {
    validateMetadataKey(k);
    if (Object.hasOwn(set, k)) throw new InvalidInputError(`metadata key ${JSON.stringify(k)} is both set and removed: keep one of the two`);
  }
  const count = Object.keys(set).length + remove.length;
  if (count === 0) throw new InvalidInputError('no metadata change given: give KEY=VALUE to set a key or --remove KEY to remove one');
  if (count > METADATA_CHANGES_MAX) throw new InvalidInputError(`${count} metadata changes in one command: give at most ${METADATA_CHANGES_MAX}`);
  return { set, remove };
}

/**
 * "KEY=VALUE" as typed on the command line; the value is everything after
 * the first "=" (and then refused by validateMetadataValue if it has another).
 */
export function parseMetadataAssignment(arg: string): [key: string, value: string] {
  const i = arg.indexOf('=');
  if (i < 0) throw new InvalidInputError(`invalid metadata ${JSON.stringify(arg)}: use KEY=VALUE to set a key, or --remove KEY to remove one`);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

/**
 * A machine argument: the full id, or a unique prefix of a registered one.
 * The "113f16a7..." legend list-machines prints is accepted as a prefix, and
 * upper case as lower. A full id needs no registration: fleet kept dynamic
 * metadata for machines that are away, and so does Flotilla.
 */
export function resolveMachine(arg: string, registered: readonly string[]): { machineId: string; registered: boolean } {
  const id = arg.trim().toLowerCase().replace(/\.\.\.$/, '');
  if (!/^[0-9a-f]{1,32}$/.test(id)) {
    throw new InvalidInputError(`invalid machine ${JSON.stringify(arg)}: give a machine id or a unique prefix of one, as flotctl list-machines shows`);
  }
  if (registered.includes(id)) return { machineId: id, registered: true };
  const matches = registered.filter((m) => m.startsWith(id));
  if (matches.length === 1) return { machineId: matches[0] as string, registered: true };
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).map((m) => machineIdLegend(m, false)).join(', ');
    throw new InvalidInputError(`machine ${JSON.stringify(arg)} matches ${matches.length} machines (${shown}${matches.length > 5 ? ', ...' : ''}): give more of its id`);
  }
  if (FULL_ID.test(id)) return { machineId: id, registered: false };
  throw new InvalidInputError(`no machine in the cluster has an id starting with ${JSON.stringify(arg)}: see flotctl list-machines, or give the full 32-character id`);
}
