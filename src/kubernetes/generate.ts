/**
 * `npm run units:kubernetes`: write units/kubernetes/*.service from the
 * pinned release. With --check, write nothing and exit 1 if a file differs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELEASE } from './release.js';
import { renderUnits } from './render.js';

/** dist/src/kubernetes/generate.js -> the repo's units/kubernetes. */
export const UNITS_DIR = fileURLToPath(new URL('../../../units/kubernetes/', import.meta.url));

/** Names of the files whose content differs from the generator's output. */
export async function staleFiles(dir = UNITS_DIR): Promise<string[]> {
  const stale: string[] = [];
  for (const [name, text] of renderUnits(RELEASE)) {
    // A missing file is stale like a different one.
    const current = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (current !== text) stale.push(name);
  }
  return stale;
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) {
    const stale = await staleFiles();
    if (stale.length > 0) {
      process.stderr.write(`units/kubernetes is out of date (${stale.join(', ')}): run 'npm run units:kubernetes'\n`);
      process.exit(1);
    }
    return;
  }
  for (const [name, text] of renderUnits(RELEASE)) await writeFile(join(UNITS_DIR, name), text);
  process.stdout.write(`wrote ${[...renderUnits(RELEASE).keys()].join(' ')} to ${UNITS_DIR}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
