/**
 * Mounts below a dev host's directory. dockerd bind-mounts its data root onto
 * itself and the host network namespace at <exec-root>/netns/default; both
 * are machine-wide mounts (the hosts share the machine's mount namespace), so
 * a host's power loss must take them away, and nothing under the host dir can
 * be removed until then (rm fails with EBUSY).
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { FlotillaError } from '../util/errors.js';
import { run } from './exec.js';

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = resolve(dir);
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = unescape(field);
    if (point === root || point.startsWith(root + sep)) points.add(point);
  }
  return [...points].sort((a, b) => b.length - a.length);
}

/** Lazily unmount everything at or below `dir` (a mount stacked twice is unmounted twice). */
export async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      const r = await run('umount', ['--lazy', p]);
      if (r.code !== 0 && !/not mounted|no mount point/i.test(r.stderr)) {
        throw new FlotillaError(`cannot unmount ${p}: ${r.stderr.trim()}`);
      }
    }
  }
  throw new FlotillaError(`mounts under ${dir} keep coming back: ${(await mountsUnder(dir)).join(', ')}`);
}
