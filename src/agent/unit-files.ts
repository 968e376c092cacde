/**
 * The agent's units directory: one file per unit it runs, named after the
 * unit, holding exactly the stored (serialized) content. Because the content
 * is stored serialized, the SHA-1 of the file's bytes is the unit's hash, so
 * the directory itself tells a restarted agent what it was running.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

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

  /** unit name -> hash of what is on disk. */
  async scan(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('.') || !UNIT_SUFFIX.test(name)) continue;
      try {
        out.set(name, contentHash(await readFile(this.pathOf(name), 'utf8')));
      } catch {
        // vanished between readdir and read: not ours any more
      }
    }
    return out;
  }

  /** Write atomically so systemd never reads half a file. */
  async write(unit: string, content: string): Promise<string> {
    const path = this.pathOf(unit);
    const tmp = join(this.dir, `.${unit}.tmp`);
    await writeFile(tmp, content, { mode: 0o644 });
    await rename(tmp, path);
    return path;
  }

  async remove(unit: string): Promise<void> {
    await rm(this.pathOf(unit), { force: true });
  }
}
