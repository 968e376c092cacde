/**
 * What `npm run build` leaves behind: bin targets that run as commands (npx
 * runs them directly), and one version, package.json's, in flotctl and
 * flotillad. The build steps themselves are checked on a scratch package.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { runFile } from '../cli/support/run.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STEPS = join(ROOT, 'src', 'dev', 'build-steps.mjs');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

describe('the build', () => {
  const scratch = mkdtempSync('/tmp/fl-build-');
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("leaves every package.json bin target executable, and flotctl and flotillad print package.json's version", async () => {
    assert.deepEqual(Object.keys(pkg.bin).sort(), ['flotctl', 'flotillad']);
    for (const target of Object.values(pkg.bin)) {
      const mode = statSync(join(ROOT, target)).mode & 0o777;
      assert.equal(mode & 0o111, 0o111, `${target} has mode ${mode.toString(8)}`);
    }
    const ctl = await runFile(join(ROOT, pkg.bin.flotctl as string), ['version']);
    assert.deepEqual([ctl.code, ctl.stdout], [0, `flotctl version ${pkg.version}\n`]);
    const d = await runFile(join(ROOT, pkg.bin.flotillad as string), ['--version']);
    assert.deepEqual([d.code, d.stdout], [0, `flotillad version ${pkg.version}\n`]);
  });

  it('bundles flotctl with its store client: a command that needs etcd loads the etcd3 chunk and its protos', async () => {
    assert.equal(pkg.bin.flotctl, 'dist/bin/flotctl.js');
    const r = await runFile(join(ROOT, pkg.bin.flotctl as string), ['list-units'], { FLOTCTL_DRIVER: 'etcd', FLOTCTL_ENDPOINT: 'http://127.0.0.1:1' });
    assert.deepEqual([r.code, r.stderr], [3, 'flotctl: cluster store unreachable at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n']);
  });

  it('flotctl.js is one CommonJS file: version, help and the list fast path run from it alone; the rest is handed to flotctl.mjs', async () => {
    const bin = join(ROOT, 'dist', 'bin');
    assert.deepEqual(JSON.parse(readFileSync(join(bin, 'package.json'), 'utf8')), { type: 'commonjs' });
    assert.doesNotMatch(readFileSync(join(bin, 'flotctl.js'), 'utf8'), /^import |\bimport\.meta\b|from ["']\.\/chunk-/m);
    // The file alone, with its package.json and help but no ESM bundle beside it.
    const alone = join(scratch, 'alone');
    mkdirSync(alone, { recursive: true });
    for (const f of ['flotctl.js', 'package.json', 'flotctl-help.json']) copyFileSync(join(bin, f), join(alone, f));
    const ctl = join(alone, 'flotctl.js');
    assert.deepEqual(await runFile(ctl, ['version']), { code: 0, stdout: `flotctl version ${pkg.version}\n`, stderr: '' });
    assert.equal((await runFile(ctl, ['help'])).stdout, (await runFile(join(bin, 'flotctl.js'), ['help'])).stdout);
    const socket = join(scratch, 'none.sock');
    const list = await runFile(ctl, ['list-units'], { FLOTCTL_ENDPOINT: `unix://${socket}` });
    assert.deepEqual(list, { code: 3, stdout: '', stderr: `flotctl: flotillad API unreachable at unix://${socket}: no socket at ${socket} (is flotillad running here? see api_socket)\n` });
    // The etcd driver and other commands are the ESM bundle's: without it they cannot run.
    for (const [args, env] of [[['list-units'], { FLOTCTL_DRIVER: 'etcd' }], [['list-unit-files'], {}]] as const) {
      const r = await runFile(ctl, args, env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^flotctl: cannot load .*\/alone\/flotctl\.mjs: Cannot find module '.*\/alone\/flotctl\.mjs'.*; reinstall flotctl\n$/, r.stderr);
    }
  });

  it('the steps: before empties dist and writes the version module; after sets execute bits, refusing a target that cannot run', () => {
    const dir = join(scratch, 'pkg');
    mkdirSync(join(dir, 'src', 'util'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'stale.js'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '9.8.7-rc.1', bin: { a: 'dist/bin/a.js' } }));
    const step = (name: string): { status: number | null; stderr: string } => spawnSync(process.execPath, [STEPS, name, dir], { encoding: 'utf8' });

    assert.equal(step('before').status, 0);
    assert.throws(() => statSync(join(dir, 'dist')), /ENOENT/);
    assert.match(readFileSync(join(dir, 'src', 'util', 'version.ts'), 'utf8'), /^export const VERSION = "9\.8\.7-rc\.1";$/m);

    mkdirSync(join(dir, 'dist', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'bin', 'a.js'), '#!/usr/bin/env node\n');
    chmodSync(join(dir, 'dist', 'bin', 'a.js'), 0o644); // as tsc writes it
    assert.equal(step('after').status, 0);
    assert.equal(statSync(join(dir, 'dist', 'bin', 'a.js')).mode & 0o777, 0o755);

    writeFileSync(join(dir, 'dist', 'bin', 'a.js'), 'console.log(1)\n');
    const noShebang = step('after');
    assert.equal(noShebang.status, 1);
    assert.equal(noShebang.stderr, 'build: bin target dist/bin/a.js has no #! line: it cannot run as a command\n');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: 'latest' }));
    const badVersion = step('before');
    assert.equal(badVersion.status, 1);
    assert.match(badVersion.stderr, /^build: package\.json's version "latest" is not a semver version such as 1\.2\.3\n$/);
  });
});
