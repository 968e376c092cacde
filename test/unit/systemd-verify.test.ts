/**
 * Every shipped unit is valid to systemd itself: `systemd-analyze verify`
 * on each file in units/, in system mode (where a real host runs them),
 * against a scratch root holding all shipped units side by side, stubs for
 * what a CoreOS/Flatcar host provides (docker.service, containerd.service,
 * the default-dependency targets) and stub executables for the commands such
 * a host has. Any output at all fails the test: verify reports unknown keys
 * and bad values as warnings with exit status 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { run } from '../../src/dev/exec.js';
import { shippedUnitFiles } from '../support/shipped-units.js';

/** What a host brings that the units rely on. */
const HOST_UNITS: Record<string, string> = {
  'docker.service': '[Unit]\nDescription=stub: the host\'s Docker\n\n[Service]\nExecStart=/bin/sh\n',
  'containerd.service': '[Unit]\nDescription=stub: the host\'s containerd\n\n[Service]\nExecStart=/bin/sh\n',
  'sysinit.target': '[Unit]\nDescription=stub\n',
  'basic.target': '[Unit]\nDescription=stub\n',
  'shutdown.target': '[Unit]\nDescription=stub\n',
};
/** Commands a CoreOS/Flatcar host has; a unit calling anything else (a typo'd path too) fails. */
const HOST_EXECUTABLES = ['/bin/sh', '/usr/bin/docker', '/usr/bin/touch'];

let root: string;
let unitDir: string;

before(async () => {
  root = await mkdtemp('/tmp/fl-verify-');
  unitDir = join(root, 'etc', 'systemd', 'system');
  await mkdir(unitDir, { recursive: true });
  for (const [name, text] of Object.entries(HOST_UNITS)) await writeFile(join(unitDir, name), text);
  for (const exe of HOST_EXECUTABLES) {
    await mkdir(join(root, dirname(exe)), { recursive: true });
    await writeFile(join(root, exe), '#!/bin/sh\n');
    await chmod(join(root, exe), 0o755);
  }
  const names = new Set<string>();
  for (const file of shippedUnitFiles()) {
    const name = basename(file);
    assert.ok(!names.has(name), `two shipped units are called ${name}`);
    names.add(name);
    await copyFile(file, join(unitDir, name));
  }
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function verify(name: string): Promise<{ code: number; output: string }> {
  const r = await run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', join(unitDir, name)]);
  return { code: r.code, output: `${r.stdout}${r.stderr}`.trim() };
}

test('systemd-analyze verify accepts every shipped unit without a word', async () => {
  const files = shippedUnitFiles();
  assert.ok(files.length >= 10, `only ${files.length} shipped units found`);
  for (const file of files) {
    const r = await verify(basename(file));
    assert.equal(r.output, '', `${file}: ${r.output}`);
    assert.equal(r.code, 0, file);
  }
});

test('the same check rejects a broken unit (so it can fail)', async () => {
  await writeFile(join(unitDir, 'broken@.service'), [
    '[Unit]', 'Description=broken', 'Requires=nothing-provides-this.service', '',
    '[Service]', 'ExecStart=/usr/bin/dokcer run x', 'Restart=sometimes', '',
  ].join('\n'));
  const r = await verify('broken@.service');
  assert.notEqual(r.code, 0);
  assert.match(r.output, /nothing-provides-this\.service not found/);
  assert.match(r.output, /\/usr\/bin\/dokcer is not executable/);
  assert.match(r.output, /Failed to parse service restart specifier/);
});
