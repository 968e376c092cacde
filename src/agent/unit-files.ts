/**
 * The agent's units directory: one file per unit it runs, named after the
 * unit, holding exactly the stored (serialized) content. Because the content
 * is stored serialized, the SHA-1 of the file's bytes is the unit's hash, so
 * the directory itself tells a restarted agent what it was running.
 *
 * Unit names come from the store: a name is used as a file name only if it
 * passes unit name validation (which is also what scan() accepts, so a
 * restarted agent finds every unit it wrote), and the path it makes must be
 * a direct child of the directory. The agent's own files here are hidden
 * ones (a leading "."), which no unit name can start with.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rename as renameCallback, writeFile as writeFileCallback } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { isValidUnitName } from '../unit/name.js';
import { FlotillaError } from '../util/errors.js';
import { BIND_TO_LEASE } from './fence.js';

/** Temp files of write(): short names that do not grow with the unit's (a 255-byte name must still fit). */
const TEMP_FILE = /^\.[0-9a-f]{12}\.tmp$/;
/** What agents before these temp names left behind after a crash: `.<unit>.tmp`. */
const OLD_TEMP_FILE = /^\..+\.tmp$/;

/**
 * write()'s file calls. The callback writeFile chains open, write and close
 * as plain thread-pool callbacks; fs/promises' wraps each step in FileHandle
 * promises, about twice the CPU for a small file (Node 20 on tmpfs, 5,000 writes
 * and renames, 10 at a time: 65-73 against 34-48 µs of CPU each). An agent
 * writes one file per unit it is given, so a host taking hundreds at once
 * (bench:scale: 10,000 over 1,000 simulated hosts in 2 processes) spends
 * that twice.
 */
const writeFileAsync = promisify(writeFileCallback);
const renameAsync = promisify(renameCallback);

export function contentHash(content: string): string {
  return createHash('sha1').update(content).digest('hex');
}

/** A unit name the agent will not use as a file name. */
export class UnitPathError extends FlotillaError {}

export class UnitFiles {
  private readonly root: string;

  constructor(readonly dir: string) {
    this.root = resolve(dir);
  }

  /** The unit's file: a direct child of the directory, or UnitPathError. */
  pathOf(unit: string): string {
    if (!isValidUnitName(unit)) throw new UnitPathError(`refusing to use ${JSON.stringify(unit)} as a unit file name: not a valid unit name`);
    const path = resolve(this.root, unit);
    if (dirname(path) !== this.root) throw new UnitPathError(`refusing unit file ${JSON.stringify(unit)}: it resolves outside ${this.root}`);
    return path;
  }

  /** Create the directory and clear temp files a crash left behind. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    for (const name of await readdir(this.dir)) {
      if (TEMP_FILE.test(name) || OLD_TEMP_FILE.test(name)) await rm(join(this.root, name), { force: true });
    }
  }

  /**
   * unit name -> the stored content it was written from (and its hash), and
   * whether it is bound to the lease. Every valid unit name is looked at:
   * exactly the names write() accepts.
   */
  async scan(): Promise<Map<string, { hash: string; content: string; bound: boolean }>> {
    const out = new Map<string, { hash: string; content: string; bound: boolean }>();
    for (const name of await readdir(this.dir)) {
      if (!isValidUnitName(name)) continue;
      try {
        const text = await readFile(this.pathOf(name), 'utf8');
        const bound = text.endsWith(BIND_TO_LEASE);
        const content = bound ? text.slice(0, -BIND_TO_LEASE.length) : text;
        out.set(name, { hash: contentHash(content), content, bound });
      } catch {
        // vanished between readdir and read (or not a file): not ours any more
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
    const tmp = join(this.root, `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFileAsync(tmp, bindToLease ? content + BIND_TO_LEASE : content, { mode: 0o644 });
      await renameAsync(tmp, path);
    } catch (err) {
      // The write's own error is the one to report; init() clears a temp file left behind.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    return path;
  }

  async remove(unit: string): Promise<void> {
    await rm(this.pathOf(unit), { force: true });
  }
}
