/**
 * The dev cluster's directory holds the SSH key that logs into every dev host
 * as root, the hosts' authorized_keys and known_hosts, and their sockets: it
 * must be the user's alone. The default is a fixed name in the shared /tmp
 * (so `flotillad dev --down` finds it without arguments), which anyone could
 * create first, so an existing directory is trusted only if it is a real
 * directory (not a symbolic link) owned by this user that nobody else can
 * write to; a new one is created with mode 0700 (tmux's rule for
 * /tmp/tmux-UID).
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { InvalidInputError } from '../util/errors.js';

/** This process's user id (getuid is absent only on platforms the dev cluster does not run on). */
export function currentUid(): number {
  return process.getuid?.() ?? userInfo().uid;
}

/**
 * `/tmp/flotilla-<uid>`: per user, the same in every shell and session (unlike
 * XDG_RUNTIME_DIR, which sudo, su and cron do not set and logout removes under
 * a detached cluster), and short enough for the hosts' unix sockets.
 */
export function defaultClusterDir(uid: number = currentUid()): string {
  return `/tmp/flotilla-${uid}`;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function mode(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

/** Why `dir` (as lstat saw it) cannot be trusted, or undefined. `empty`: whether it has no entries. */
export function distrust(dir: string, st: Stats, uid: number, empty: boolean): string | undefined {
  if (st.isSymbolicLink()) return `${dir} is a symbolic link: remove it or choose another --dir`;
  if (!st.isDirectory()) return `${dir} is not a directory: remove it or choose another --dir`;
  if (st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): remove it or choose another --dir`;
  // Something another user put in it (a symlink named like our files) could redirect our writes.
  if ((st.mode & 0o022) !== 0 && !empty) return `${dir} is writable by other users (mode ${mode(st)}): remove it or choose another --dir`;
  return undefined;
}

/**
 * Checks an existing cluster dir before anything in it is read or run
 * (cluster.json names processes to signal and paths to remove).
 * Returns false when it does not exist.
 */
export async function checkPrivateDir(dir: string, uid: number = currentUid()): Promise<boolean> {
  const st = await lstatOrUndefined(dir);
  if (!st) return false;
  const why = distrust(dir, st, uid, false);
  if (why) throw new InvalidInputError(why);
  return true;
}

/**
 * `dir` exists afterwards, is this user's, and has mode 0700; returns its
 * entries. A missing one is created (its parents with the usual mode). For an
 * existing one, `vet(entries)` may refuse it before anything changes (a
 * directory that is not a cluster dir must not even be chmodded); then group
 * and other bits are taken away, unless someone else could have written into
 * it already (refused).
 */
export async function makePrivateDir(dir: string, vet: (entries: string[]) => void, uid: number = currentUid()): Promise<string[]> {
  let st = await lstatOrUndefined(dir);
  if (!st) {
    await mkdir(dirname(dir), { recursive: true });
    try {
      // Not recursive: the last step must create the directory itself, or fail if someone got there first.
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    st = await lstat(dir);
  }
  const early = distrust(dir, st, uid, true);
  if (early) throw new InvalidInputError(early);
  const entries = await readdir(dir);
  vet(entries);
  const late = distrust(dir, st, uid, entries.length === 0);
  if (late) throw new InvalidInputError(late);
  if ((st.mode & 0o777) !== 0o700) {
    // Through a handle that refuses symlinks and is the directory checked above, not whatever the name points at now.
    const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      const now = await handle.stat();
      if (now.ino !== st.ino || now.dev !== st.dev) throw new InvalidInputError(`${dir} was replaced while being checked: try again`);
      await handle.chmod(0o700);
    } finally {
      await handle.close();
    }
  }
  return entries;
}
