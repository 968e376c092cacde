/** Reading local unit files (nodeFiles): bytes are refused rather than changed. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFiles } from '../../src/client/operations/index.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fl-local-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('invalid UTF-8 is refused with the file, line and byte, not turned into U+FFFD', async () => {
  const path = join(dir, 'latin1.service');
  // "café" in Latin-1 on line 2: byte 0xE9 is not UTF-8.
  await writeFile(path, Buffer.concat([Buffer.from('[Unit]\nDescription=caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  await assert.rejects(nodeFiles.read(path), { name: 'InvalidInputError', message: `${path}: not valid UTF-8 (line 2, byte 23): save the file as UTF-8` });
  const truncated = join(dir, 'cut.service');
  await writeFile(truncated, Buffer.concat([Buffer.from('[Unit]\nDescription=caf'), Buffer.from([0xc3])]));
  await assert.rejects(nodeFiles.read(truncated), /not valid UTF-8 \(line 2, byte 23\)/);
});

test('valid UTF-8 is read as is, a byte order mark included (it is part of the hash, as in fleet)', async () => {
  const path = join(dir, 'ok.service');
  await writeFile(path, '\ufeff[Unit]\nDescription=café ☃\n');
  assert.equal(await nodeFiles.read(path), '\ufeff[Unit]\nDescription=café ☃\n');
  assert.equal(await nodeFiles.read(join(dir, 'missing.service')), undefined);
});

test('a file over the size limit is refused before it is read', async () => {
  const path = join(dir, 'huge.service');
  await writeFile(path, `[Service]\n${'#'.repeat(256 * 1024)}\n`);
  await assert.rejects(nodeFiles.read(path), {
    message: `${path}: unit file is 257 KiB; the limit is 256 KiB: move scripts and data into files the unit runs or reads`,
  });
});
