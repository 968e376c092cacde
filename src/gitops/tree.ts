/**
 * What a directory of unit files looks like to the parser, whoever read it:
 * a work tree on disk (work-tree.ts) or a commit of a repository (git.ts).
 * Both list the directory's top level only (a source is flat, like a systemd
 * unit directory: a sub-directory is another source) and read only entries
 * whose names matter, so a README or a build directory costs nothing.
 */
import { UNIT_TYPES } from '../unit/index.js';

/** The optional file saying which units are loaded or inactive instead of launched. */
export const MANIFEST_FILE = 'flotilla.ini';

export type TreeEntry =
  | { name: string; kind: 'file'; text: string }
  | { name: string; kind: 'symlink'; target: string }
  | { name: string; kind: 'dir' }
  /** Anything else (a FIFO, a device, a git submodule), or a file that could not be read. */
  | { name: string; kind: 'other'; problem: string };

export interface TreeLimits {
  entries: number;
  units: number;
  fileBytes: number;
  totalBytes: number;
}

/** Bounds on untrusted trees: what one sync may read. */
export const TREE_LIMITS: Readonly<TreeLimits> = Object.freeze({
  /** Directory entries looked at, relevant or not. */
  entries: 20_000,
  /** Units (files and symlinks) in one source. */
  units: 10_000,
  /** Bytes of one file read; the unit validator applies the unit size limit. */
  fileBytes: 1024 * 1024,
  /** Bytes of all files read together. */
  totalBytes: 64 * 1024 * 1024,
});

const UNIT_SUFFIXES = UNIT_TYPES.map((t) => `.${t}`);

/** x.service, web@.service, web@1.service: a name with a unit type, not hidden. */
export function hasUnitSuffix(name: string): boolean {
  return !name.startsWith('.') && UNIT_SUFFIXES.some((s) => name.endsWith(s) && name.length > s.length);
}

/** x.service.d, x.service.wants, x.service.requires: systemd's per-unit directories. */
export function isUnitDirectoryName(name: string): boolean {
  return /\.(d|wants|requires)$/.test(name) && hasUnitSuffix(name.replace(/\.(d|wants|requires)$/, ''));
}

/**
 * Whether a top-level entry of this name can change the desired state. Names
 * starting with "." (.git, .gitignore, editor lock files) never do.
 */
export function isRelevantName(name: string): boolean {
  return name === MANIFEST_FILE || hasUnitSuffix(name) || isUnitDirectoryName(name);
}
