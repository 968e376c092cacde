/**
 * A directory of unit files as a desired state: which units exist, with what
 * content and in which desired state. Pure: it sees a listing (tree.ts) and
 * decides; readers do the I/O.
 *
 * - A unit is a regular file named like one (web.service, web@.service).
 * - An instance is a symlink to its own template, the systemd way:
 *   web@1.service -> web@.service. It gets the template's content. An
 *   instance may also be a regular file of its own.
 * - flotilla.ini (manifest.ts) may make a unit loaded or inactive; every
 *   other unit is launched, and templates are only stored (never started).
 * - Everything else is ignored: names without a unit type (README.md),
 *   hidden names (.git), sub-directories.
 * - Errors, each naming its file: a symlink that is not an instance, points
 *   outside the directory, at another unit or at a missing template; a
 *   drop-in or .wants directory (x.service.d/: fold it into the unit, so that
 *   the stored content, and `flotctl cat`, is the whole unit); a file that
 *   does not parse or fails the shared unit validation; too many units.
 *
 * All or nothing: any error throws TreeError with every error, one line each.
 */
import { posix } from 'node:path';
import { type DesiredState } from '../registry/records.js';
import { UnitFile, parseUnitName, validateUnit } from '../unit/index.js';
import { FlotillaError, InvalidInputError, errorMessage } from '../util/errors.js';
import { parseManifest } from './manifest.js';
import { MANIFEST_FILE, TREE_LIMITS, type TreeEntry, hasUnitSuffix, isUnitDirectoryName } from './tree.js';

export type DesiredKind = 'unit' | 'template' | 'instance';

export interface DesiredUnit {
  name: string;
  file: UnitFile;
  desired: DesiredState;
  kind: DesiredKind;
  /** The file whose content it has: itself, or the template an instance links to. */
  from: string;
}

export interface DesiredTree {
  /** Sorted by name (byte order). */
  units: DesiredUnit[];
  /** Unknown [X-Fleet] keys and the like, one line each, naming the file. */
  warnings: string[];
}

/** Every problem of a tree, one line each; nothing may be applied. */
export class TreeError extends InvalidInputError {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
  }
}

/**
 * @param label how messages name the directory ("units", "HEAD:units"), so
 *   every line reads "<label>/<file>: <problem>".
 */
export function parseTree(entries: readonly TreeEntry[], label: string): DesiredTree {
  const errors: Array<[string, string]> = [];
  const warnings: string[] = [];
  const where = (name: string): string => (label === '' ? name : `${label.replace(/\/+$/, '')}/${name}`);
  const fail = (name: string, why: string): void => void errors.push([name, `${where(name)}: ${why}`]);

  const byName = new Map(entries.map((e) => [e.name, e]));
  const files = new Map<string, UnitFile>();
  const candidates: TreeEntry[] = [];
  for (const e of [...byName.values()].sort((a, b) => cmp(a.name, b.name))) {
    if (e.name === MANIFEST_FILE) continue;
    if (isUnitDirectoryName(e.name)) {
      const unit = e.name.replace(/\.(d|wants|requires)$/, '');
      fail(e.name, e.name.endsWith('.d')
        ? `drop-in directories are not supported: merge its .conf files into ${unit}`
        : `${e.name.slice(unit.length + 1)} directories are not supported: use Wants=/Requires= in ${unit}`);
      continue;
    }
    if (!hasUnitSuffix(e.name)) continue;
    candidates.push(e);
  }
  if (candidates.length > TREE_LIMITS.units) {
    throw new TreeError([`${where('')}: ${candidates.length} units, more than the ${TREE_LIMITS.units} one source may hold: split it into several directories`]);
  }

  // Regular files first: instances need their templates parsed.
  for (const e of candidates) {
    if (e.kind === 'dir') fail(e.name, 'is a directory, not a unit file');
    else if (e.kind === 'other') fail(e.name, e.problem);
    else if (e.kind === 'file') {
      const file = parseUnitText(e.name, e.text, (why) => fail(e.name, why));
      if (file) files.set(e.name, file);
    }
  }

  const units: DesiredUnit[] = [];
  for (const e of candidates) {
    if (e.kind === 'file') {
      const file = files.get(e.name);
      if (!file) continue;
      const kind = parseUnitName(e.name).isTemplate ? 'template' : parseUnitName(e.name).isInstance ? 'instance' : 'unit';
      if (validated(e.name, file, where, fail, warnings)) units.push({ name: e.name, file, desired: kind === 'template' ? 'inactive' : 'launched', kind, from: e.name });
    } else if (e.kind === 'symlink') {
      const template = instanceTemplate(e.name, e.target, byName, (why) => fail(e.name, why));
      if (template === undefined) continue;
      const file = files.get(template);
      // A template that failed has its own error line; its instances add none.
      if (!file) continue;
      if (validated(e.name, file, where, fail, warnings)) units.push({ name: e.name, file, desired: 'launched', kind: 'instance', from: template });
    }
  }

  const manifestEntry = byName.get(MANIFEST_FILE);
  if (manifestEntry) applyManifest(manifestEntry, units, fail);

  if (errors.length > 0) throw new TreeError(errors.sort((a, b) => cmp(a[0], b[0])).map(([, line]) => line));
  return { units: units.sort((a, b) => cmp(a.name, b.name)), warnings };
}

function parseUnitText(name: string, text: string, fail: (why: string) => void): UnitFile | undefined {
  try {
    return UnitFile.parse(text);
  } catch (err) {
    if (err instanceof FlotillaError) fail(err.message);
    else fail(`cannot parse: ${errorMessage(err)}`);
    return undefined;
  }
}

/** The shared validation (name, limits, round trip, [X-Fleet]); for an instance, against its own name. */
function validated(
  name: string,
  file: UnitFile,
  where: (n: string) => string,
  fail: (n: string, why: string) => void,
  warnings: string[],
): boolean {
  try {
    for (const w of validateUnit(file, name).warnings) warnings.push(`${where(name)}: ${w}`);
    return true;
  } catch (err) {
    if (!(err instanceof FlotillaError)) throw err;
    fail(name, err.message);
    return false;
  }
}

/** The template an instance symlink names, or undefined after reporting why it is not one. */
function instanceTemplate(
  name: string,
  target: string,
  byName: ReadonlyMap<string, TreeEntry>,
  fail: (why: string) => void,
): string | undefined {
  const shown = `-> ${target}`;
  if (target.startsWith('/')) return void fail(`symlink ${shown} points outside the directory: link instances to their template by a relative name`);
  const resolved = posix.normalize(target);
  if (resolved === '..' || resolved.startsWith('../')) return void fail(`symlink ${shown} points outside the directory`);
  let info;
  try {
    info = parseUnitName(name);
  } catch {
    info = undefined;
  }
  if (!info?.isInstance) {
    return void fail(`symlink ${shown}: only instances may be symlinks (to their template, e.g. web@1.service -> web@.service); make it a regular file`);
  }
  if (resolved !== info.template) return void fail(`symlink ${shown}: an instance must link to its own template ${info.template}`);
  const t = byName.get(info.template);
  if (!t) return void fail(`symlink ${shown} points to a missing template: add ${info.template}`);
  if (t.kind !== 'file') return void fail(`symlink ${shown}: the template ${info.template} must be a regular file`);
  return info.template;
}

function applyManifest(
  entry: TreeEntry,
  units: DesiredUnit[],
  fail: (n: string, why: string) => void,
): void {
  if (entry.kind !== 'file') {
    fail(MANIFEST_FILE, entry.kind === 'other' ? entry.problem : `must be a regular file, not a ${entry.kind}`);
    return;
  }
  const { manifest, errors } = parseManifest(entry.text);
  for (const e of errors) fail(MANIFEST_FILE, e);
  const byName = new Map(units.map((u) => [u.name, u]));
  for (const [unit, { state, line }] of manifest.desired) {
    const u = byName.get(unit);
    if (!u) {
      fail(MANIFEST_FILE, `line ${line}: ${unit} is not a unit of this directory`);
      continue;
    }
    if (u.kind === 'template' && state !== 'inactive') {
      fail(MANIFEST_FILE, `line ${line}: ${unit} is a template: it cannot be ${state}; give the state of its instances`);
      continue;
    }
    u.desired = state;
  }
}

/** Byte order, like etcd's key order. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
