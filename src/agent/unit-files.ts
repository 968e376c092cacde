/**
 * The agent's units directory: one file per unit it runs, named after the
 * unit, holding exactly the stored (serialized) content. Because the content
 * is stored serialized, the SHA-1 of the file's bytes is the unit's hash, so
 * the directory itself tells a restarted agent what it was running.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BIND_TO_LEASE } from './fence.js';

const UNIT_SUFFIX = /\.(service|socket|timer|path|device|mount|automount|target|swap|slice|scope)$/;

export function contentHash(content: string): string {
  return createHash('sha1').update(content).digest('hex');
}

export class UnitFiles {
  constructor(readonly dir: string) {}

  pathOf(unit: string): string {
    return join(this.dir, unit);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
  }

  /** unit name -> the stored content it was written from (and its hash), and whether it is bound to the lease. */
  async scan(): Promise<Map<string, { hash: string; content: string; bound: boolean }>> {
    const out = new Map<string, { hash: string; content: string; bound: boolean }>();
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('.') || !UNIT_SUFFIX.test(name)) continue;
      try {
        const text = await readFile(this.pathOf(name), 'utf8');
        const bound = text.endsWith(BIND_TO_LEASE);
        const content = bound ? text.slice(0, -BIND_TO_LEASE.length) : text;
        out.set(name, { hash: contentHash(content), content, bound });
      } catch {
        // vanished between readdir and read: not ours any more
      }
    }
    return out;
  }

  /**
   * Write atomically so systemd never reads half a file. A unit that must
   * stop when the agent loses its lease gets the binding appended; scan()
   * strips it again, so the hash still names the stored content.
   */
  async write(unit: string, content: string, bindToLease = false): Promise<string> {
    const path = this.pathOf(unit);
    const tmp = join(this.dir, `.${unit}.tmp`);
    await writeFile(tmp, bindToLease ? content + BIND_TO_LEASE : content, { mode: 0o644 });
    await rename(tmp, path);
    return path;
  }

  async remove(unit: string): Promise<void> {
    await rm(this.pathOf(unit), { force: true });
  }
}
