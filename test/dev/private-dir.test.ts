/** The dev cluster's directory: private to its user, created safely, trusted only if it is. */
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepareDir } from '../../src/dev/cluster-dir.js';
import { longestSocketPath, MAX_SOCKET_PATH } from '../../src/dev/host.js';
import { checkPrivateDir, currentUid, defaultClusterDir, makePrivateDir } from '../../src/dev/private-dir.js';
import { InvalidInputError } from '../../src/util/errors.js';

const OTHER_UID = 65534; // nobody
const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
const noop = (): void => undefined;
const refused = (pattern: RegExp) => (e: unknown): boolean => e instanceof InvalidInputError && pattern.test(e.message) && !e.message.includes('\n');

describe('dev cluster dir', () => {
  let base = '';
  before(async () => {
    base = await mkdtemp('/tmp/fl-private-');
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('defaults to /tmp/flotilla-<uid>: per user, not the shared /tmp/flotilla-dev, and short enough for every host socket', () => {
    assert.equal(defaultClusterDir(0), '/tmp/flotilla-0');
    assert.equal(defaultClusterDir(), `/tmp/flotilla-${currentUid()}`);
    const deepest = longestSocketPath(join(defaultClusterDir(4_294_967_294), 'host200'));
    assert.ok(Buffer.byteLength(deepest) <= MAX_SOCKET_PATH, deepest);
  });

  it('a missing dir is created with mode 0700, whatever the umask', async () => {
    const dir = join(base, 'new', 'c');
    const old = process.umask(0);
    try {
      assert.deepEqual(await makePrivateDir(dir, noop), []);
    } finally {
      process.umask(old);
    }
    assert.equal(await modeOf(dir), 0o700);
  });

  it('an existing dir of this user loses group and other bits; if others could write into it, it must be empty', async () => {
    const open = join(base, 'open');
    await mkdir(open);
    await chmod(open, 0o755);
    await makePrivateDir(open, noop);
    assert.equal(await modeOf(open), 0o700);

    const world = join(base, 'world');
    await mkdir(world);
    await chmod(world, 0o777);
    await makePrivateDir(world, noop);
    assert.equal(await modeOf(world), 0o700, 'empty: nothing anyone else could have planted');

    await chmod(world, 0o777);
    await writeFile(join(world, '.flotilla-dev'), 'x');
    await assert.rejects(makePrivateDir(world, noop), refused(/is writable by other users \(mode 0777\): remove it or choose another --dir/));
    assert.equal(await modeOf(world), 0o777, 'refused: nothing changed');
  });

  it("another user's dir, a symbolic link or a file at the path is refused, and left as it was", async () => {
    const theirs = join(base, 'theirs');
    await mkdir(theirs, { mode: 0o755 });
    await chown(theirs, OTHER_UID, OTHER_UID);
    await assert.rejects(makePrivateDir(theirs, noop), refused(new RegExp(`belongs to uid ${OTHER_UID}, not to you \\(uid ${currentUid()}\\): remove it or choose another --dir`)));
    assert.equal(await modeOf(theirs), 0o755);
    await assert.rejects(checkPrivateDir(theirs), refused(/belongs to uid/));

    const target = join(base, 'target');
    await mkdir(target, { mode: 0o755 });
    await chmod(target, 0o755);
    const link = join(base, 'link');
    await symlink(target, link);
    await assert.rejects(makePrivateDir(link, noop), refused(/is a symbolic link: remove it or choose another --dir/));
    await assert.rejects(checkPrivateDir(link), refused(/is a symbolic link/));
    assert.equal(await modeOf(target), 0o755);

    const file = join(base, 'file');
    await writeFile(file, '');
    await assert.rejects(makePrivateDir(file, noop), refused(/is not a directory/));
  });

  it('the caller can refuse an existing dir before its mode is touched (a --dir that is not a cluster dir)', async () => {
    const mine = join(base, 'docs');
    await mkdir(mine);
    await chmod(mine, 0o755);
    await writeFile(join(mine, 'notes.txt'), 'keep');
    await assert.rejects(prepareDir(mine, async () => undefined), /is not empty and was not created by 'flotillad dev'/);
    assert.equal(await modeOf(mine), 0o755);
    assert.deepEqual(await readdir(mine), ['notes.txt']);
  });

  it('prepareDir: a dir pre-created by another user is refused before its cluster.json is read', async () => {
    const planted = join(base, 'planted');
    await mkdir(planted, { mode: 0o755 });
    await writeFile(join(planted, '.flotilla-dev'), 'x');
    await writeFile(join(planted, 'cluster.json'), '{"version":1,"hosts":[],"etcd":{"members":[]}}');
    await chown(planted, OTHER_UID, OTHER_UID);
    let cleaned = false;
    await assert.rejects(prepareDir(planted, async () => { cleaned = true; }), refused(/belongs to uid 65534/));
    assert.equal(cleaned, false);
    assert.equal(await checkPrivateDir(join(base, 'absent')), false);
  });
});
