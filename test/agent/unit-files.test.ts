/**
 * The agent's units directory on a real file system: the longest valid name
 * can be written (temp files do not grow with the name), nothing lands
 * outside the directory whatever the name, and a rescan finds every unit
 * written, and nothing else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UnitFiles, UnitPathError, contentHash } from '../../src/agent/unit-files.js';

let dir = '';

before(async () => {
  dir = await mkdtemp('/tmp/fl-unit-files-');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LONGEST = `${'a'.repeat(247)}.service`; // 255 bytes
const TEXT = '[Service]\nExecStart=/bin/true\n';

test('a 255-byte unit name is written and found again; its temp file never was 5 bytes longer', async () => {
  const files = new UnitFiles(join(dir, 'long'));
  await files.init();
  const path = await files.write(LONGEST, TEXT);
  assert.equal(path, join(dir, 'long', LONGEST));
  const scan = await files.scan();
  assert.deepEqual([...scan.keys()], [LONGEST]);
  assert.equal(scan.get(LONGEST)?.hash, contentHash(TEXT));
  assert.deepEqual(await readdir(join(dir, 'long')), [LONGEST], 'no temp file left behind');
});

test('names that would leave the directory are refused before anything is written', async () => {
  const units = join(dir, 'a/b/c/d/units');
  const files = new UnitFiles(units);
  await files.init();
  // Make the traversal resolvable, as an attacker preparing the host would.
  await mkdir(join(units, 'x'), { recursive: true });
  await mkdir(join(units, '.x'), { recursive: true });
  await mkdir(join(dir, 'a/b/etc/cron.d'), { recursive: true });
  for (const name of ['x/../../../../etc/cron.d/evil.service', '../evil.service', '/etc/evil.service', '.hidden.service', `${'a'.repeat(248)}.service`]) {
    await assert.rejects(files.write(name, TEXT), UnitPathError, name);
    await assert.rejects(files.remove(name), UnitPathError, name);
  }
  assert.equal(existsSync(join(dir, 'a/b/etc/cron.d/evil.service')), false);
  assert.equal(existsSync(join(dir, 'a/b/c/d/evil.service')), false);
});

test('scan finds exactly the units written: not the agent\'s own hidden files, directories or temp files', async () => {
  const units = join(dir, 'scan');
  const files = new UnitFiles(units);
  await files.init();
  for (const name of ['web.service', 'web@1.service', 'a.b.timer', 'x:y-z_w.socket']) await files.write(name, TEXT, name === 'web.service');
  await writeFile(join(units, '.lease'), '1234');
  await mkdir(join(units, 'fence'));
  await writeFile(join(units, 'notes.txt'), 'x');
  const scan = await files.scan();
  assert.deepEqual([...scan.keys()].sort(), ['a.b.timer', 'web.service', 'web@1.service', 'x:y-z_w.socket']);
  // The lease binding appended to a stop unit is stripped again: the hash names the stored content.
  assert.equal(scan.get('web.service')?.bound, true);
  assert.equal(scan.get('web.service')?.hash, contentHash(TEXT));
});

test('init clears temp files a crash left behind, old-style ones included', async () => {
  const units = join(dir, 'crash');
  await mkdir(units);
  await writeFile(join(units, '.0123456789ab.tmp'), 'half');
  await writeFile(join(units, '.web.service.tmp'), 'half');
  await writeFile(join(units, '.lease'), '1234');
  await new UnitFiles(units).init();
  assert.deepEqual((await readdir(units)).sort(), ['.lease']);
});
