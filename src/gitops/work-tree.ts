/**
 * Reads a directory on disk into tree entries for the parser: its top level
 * only, never following a symlink (a symlink is reported with its target,
 * a symlinked directory is not entered), and only entries whose names
 * matter. Bounded: entries looked at, bytes per file, bytes in all.
 */
import { constants, type Dirent } from 'node:fs';
import { lstat, open, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../util/concurrency.js';
import { InvalidInputError, errorMessage } from '../util/errors.js';
import { TREE_LIMITS, type TreeEntry, type TreeLimits, isRelevantName } from './tree.js';

const READ_CONCURRENCY = 32;

export async function readWorkTree(dir: string, limits: TreeLimits = TREE_LIMITS): Promise<TreeEntry[]> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    throw new InvalidInputError(`cannot read directory ${dir}: ${describe(err)}`);
  }
  const relevant: Dirent[] = [];
  let seen = 0;
  try {
    for await (const d of handle) {
      if (++seen > limits.entries) {
        throw new InvalidInputError(`${dir} has more than ${limits.entries} entries: a source directory holds unit files, not a whole tree`);
      }
      if (isRelevantName(d.name)) relevant.push(d);
    }
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(`cannot read directory ${dir}: ${describe(err)}`);
  }
  let budget = limits.totalBytes;
  return mapLimit(relevant, READ_CONCURRENCY, async (d): Promise<TreeEntry> => {
    const path = join(dir, d.name);
    const kind = await kindOf(d, path);
    if (kind === 'symlink') return { name: d.name, kind, target: await readlink(path, 'utf8') };
    if (kind === 'dir') return { name: d.name, kind };
    if (kind !== 'file') return { name: d.name, kind: 'other', problem: `is a ${kind}, not a regular file` };
    const read = await readBounded(path, Math.min(limits.fileBytes, Math.max(0, budget)));
    if ('problem' in read) return { name: d.name, kind: 'other', problem: read.problem };
    budget -= read.bytes;
    return { name: d.name, kind: 'file', text: read.text };
  });
}

type Kind = 'file' | 'symlink' | 'dir' | 'FIFO' | 'socket' | 'device';

async function kindOf(d: Dirent, path: string): Promise<Kind> {
  const s = d.isFile() || d.isSymbolicLink() || d.isDirectory() || d.isFIFO() || d.isSocket() ? d : await lstat(path);
  if (s.isFile()) return 'file';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isDirectory()) return 'dir';
  if (s.isFIFO()) return 'FIFO';
  if (s.isSocket()) return 'socket';
  return 'device';
}

/**
 * O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a FIFO after the
 * listing is refused instead of followed or waited on.
 */
async function readBounded(path: string, maxBytes: number): Promise<{ text: string; bytes: number } | { problem: string }> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return { problem: `cannot be read: ${describe(err)}` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { problem: 'is not a regular file' };
    if (st.size > maxBytes) return { problem: `is ${st.size} bytes, more than the ${maxBytes} a unit file may have` };
    // Sized by stat, grown only if the file grows while read, never past maxBytes + 1.
    let buf = Buffer.alloc(st.size + 1);
    let bytes = 0;
    for (;;) {
      if (bytes === buf.length) {
        if (bytes > maxBytes) return { problem: `is more than ${maxBytes} bytes, the most a unit file may have` };
        const bigger = Buffer.alloc(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, bytes, buf.length - bytes, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
    if (bytes > maxBytes) return { problem: `is more than ${maxBytes} bytes, the most a unit file may have` };
    return { text: buf.subarray(0, bytes).toString('utf8'), bytes };
  } catch (err) {
    return { problem: `cannot be read: ${describe(err)}` };
  } finally {
    await fh.close();
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ELOOP') return 'is a symlink';
  return errorMessage(err);
}
