/** The unit files the project ships: everything under units/ but its documentation. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNITS_ROOT = fileURLToPath(new URL('../../../units/', import.meta.url));

/** Absolute paths, recursively, sorted; README.md and other .md files are not units. */
export function shippedUnitFiles(root = UNITS_ROOT): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
