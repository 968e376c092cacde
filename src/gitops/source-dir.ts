/**
 * A source directory as `flotctl diff` and `sync` see it: its tree (read
 * from disk) and its origin: the repository and path it belongs to, HEAD's
 * commit and whether the source's files differ from it. A directory outside
 * any git work tree is allowed; it has no commit, so it counts as dirty
 * (sync wants --allow-dirty) and its identity is its absolute path.
 */
import { realpath } from 'node:fs/promises';
import { InvalidInputError } from '../util/errors.js';
import { changedSourceFiles, workTreeOf } from './git.js';
import { defaultSourceName, repositoryIdentity } from './source-name.js';
import type { TreeEntry } from './tree.js';
import { readWorkTree } from './work-tree.js';

export interface SourceOrigin {
  /** The directory as given, for messages. */
  dir: string;
  /** Whether it is in a git work tree. */
  git: boolean;
  repository: string;
  /** Path inside the repository, "" at its top. */
  path: string;
  defaultName: string;
  /** HEAD's commit id; "" outside git or before the first commit. */
  commit: string;
  /** The units read may differ from `commit`. */
  dirty: boolean;
  /** Files of the source that differ from HEAD (relative to dir), when in git. */
  changed: string[];
}

export async function readSourceDir(dir: string): Promise<{ origin: SourceOrigin; entries: TreeEntry[] }> {
  let absolute: string;
  try {
    absolute = await realpath(dir);
  } catch {
    throw new InvalidInputError(`cannot read directory ${dir}: no such directory`);
  }
  const [entries, tree] = await Promise.all([readWorkTree(absolute), workTreeOf(absolute)]);
  if (!tree) {
    const repository = repositoryIdentity(undefined, absolute);
    return { entries, origin: { dir, git: false, repository, path: '', defaultName: defaultSourceName(repository, ''), commit: '', dirty: true, changed: [] } };
  }
  const changed = await changedSourceFiles(tree);
  const repository = repositoryIdentity(tree.origin, tree.topLevel);
  return {
    entries,
    origin: {
      dir,
      git: true,
      repository,
      path: tree.path,
      defaultName: defaultSourceName(repository, tree.path),
      commit: tree.head ?? '',
      dirty: tree.head === undefined || changed.length > 0,
      changed,
    },
  };
}

/** "1a2b3c4d5e6f", "1a2b3c4d5e6f (dirty)", "no commit": how provenance reads. */
export function revisionLabel(commit: string, dirty: boolean, full = false): string {
  if (commit === '') return 'no commit';
  const id = full ? commit : commit.slice(0, 12);
  return dirty ? `${id} (dirty)` : id;
}
