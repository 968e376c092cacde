/** The built flotctl as a process, with no etcd: exit codes and one-line errors. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { freePort } from '../client/support/ports.js';
import { flotctl, runFile } from './support/run.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; bin: { flotctl: string } };
const version = pkg.version;
/** What npx runs: the bundled bin target. */
const BIN = new URL(`../../../${pkg.bin.flotctl}`, import.meta.url).pathname;

function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0] as string;
}

describe('flotctl process', () => {
  it('is an executable script, runnable directly as npx runs it (the build sets its execute bits)', async () => {
    assert.ok(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n'));
    assert.equal(statSync(BIN).mode & 0o111, 0o111, `mode ${(statSync(BIN).mode & 0o777).toString(8)}`);
    const r = await runFile(BIN, ['version']);
    assert.deepEqual([r.code, r.stdout], [0, `flotctl version ${version}\n`]);
  });

  it("flotctl's help shows the version, as fleetctl's usage did; a command's help does not", async () => {
    for (const args of [['help'], ['--help'], []]) {
      const r = await flotctl(args);
      assert.ok(r.stdout.endsWith(`\nVersion:\n  ${version}\n`), `${args.join(' ')}: ${r.stdout}`);
    }
    assert.doesNotMatch((await flotctl(['help', 'list-units'])).stdout, /Version:/);
  });

  it('version, --version and -v print the package version', async () => {
    for (const args of [['version'], ['--version'], ['-v']]) {
      const r = await flotctl(args);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `flotctl version ${version}\n`);
    }
  });

  it('help, --help and no arguments print usage and succeed', async () => {
    for (const args of [['help'], ['--help'], [], ['help', 'list-units'], ['list-units', '--help']]) {
      const r = await flotctl(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: flotctl/);
      assert.equal(r.stderr, '');
    }
  });

  it('an unknown command is one line naming it and pointing at help, exit 2', async () => {
    const r = await flotctl(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(oneLine(r.stderr), "flotctl: unknown command 'frobnicate'; run 'flotctl help' for usage");
  });

  it('a near miss suggests the command', async () => {
    const r = await flotctl(['list-unit']);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /unknown command 'list-unit' \(did you mean list-units\?\)/);
  });

  it('an unknown flag is one line naming it and the command, exit 2', async () => {
    const f = await flotctl(['list-units', '--bogus']);
    assert.equal(f.code, 2);
    assert.equal(oneLine(f.stderr), "flotctl: unknown option '--bogus' for command 'list-units'; run 'flotctl help list-units' for usage");
    const g = await flotctl(['--bogus', 'list-units']);
    assert.equal(g.code, 2);
    assert.match(oneLine(g.stderr), /unknown option '--bogus'/);
  });

  it('a bad flag value is a usage error, exit 2', async () => {
    const r = await flotctl(['start', '--block-attempts', 'many', 'a']);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /--block-attempts/);
    const e = await flotctl(['list-units', '--driver', 'etcd', '--endpoint', 'not a url']);
    assert.equal(e.code, 2);
    assert.match(oneLine(e.stderr), /--endpoint "not a url" is not a URL/);
  });

  it('bad --fields fail with fleet\'s messages before touching the store, exit 1', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await flotctl(['list-units', '--fields', 'unit,nope', '--endpoint', dead]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), 'Invalid key in output format: "nope"');
    const e = await flotctl(['list-machines', '--fields=', '--endpoint', dead]);
    assert.equal(e.code, 1);
    assert.equal(oneLine(e.stderr), 'Must define output format');
  });

  it('an unreachable store is one line naming it, exit 3, with -l as a real short flag', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['list-units', '-l'], ['list-unit-files', '--l'], ['list-machines', '--full'], ['start', 'x']]) {
      const r = await flotctl(['--driver', 'etcd', '--endpoint', dead, ...args]);
      assert.equal(r.code, 3, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(oneLine(r.stderr), new RegExp(`^flotctl: cluster store unreachable at ${dead}: `));
    }
  });

  it('FLOTCTL_ENDPOINT is used, and --endpoint wins over it', async () => {
    const a = `http://127.0.0.1:${await freePort()}`;
    const b = `http://127.0.0.1:${await freePort()}`;
    const fromEnv = await flotctl(['list-machines'], { env: { FLOTCTL_ENDPOINT: a } });
    assert.match(fromEnv.stderr, new RegExp(`unreachable at ${a}:`));
    const fromCli = await flotctl(['list-machines', '--endpoint', b], { env: { FLOTCTL_ENDPOINT: a } });
    assert.match(fromCli.stderr, new RegExp(`unreachable at ${b}:`));
  });

  it('the API driver warns that --etcd-key-prefix on the command line is not its to use, not when the variable sets it', async () => {
    const sock = 'unix:///nonexistent/flotilla.sock';
    const flag = await flotctl(['--driver', 'api', '--endpoint', sock, '--etcd-key-prefix', '/x/', 'list-machines']);
    assert.equal(flag.code, 3);
    assert.equal(flag.stderr.split('\n')[0], 'Warning: --etcd-key-prefix is for etcd; the API driver reaches the keyspace its flotillad serves');
    const variable = await flotctl(['--driver', 'api', '--endpoint', sock, 'list-machines'], { env: { FLOTCTL_ETCD_KEY_PREFIX: '/x/' } });
    assert.equal(variable.code, 3);
    assert.doesNotMatch(variable.stderr, /Warning/);
  });

  it('command prefixes work like fleetctl\'s', async () => {
    const r = await flotctl(['vers']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `flotctl version ${version}\n`);
  });

  it('missing arguments keep fleet\'s behaviour', async () => {
    const submit = await flotctl(['submit']);
    assert.deepEqual([submit.code, submit.stderr], [0, 'No units given\n']);
    const cat = await flotctl(['cat']);
    assert.deepEqual([cat.code, cat.stderr], [1, 'One unit file must be provided\n']);
  });

  it('--sign and verify are refused as in fleet, exit 2', async () => {
    for (const args of [['submit', '--sign', 'a'], ['verify', 'a']]) {
      const r = await flotctl(args);
      assert.equal(r.code, 2);
      assert.equal(oneLine(r.stderr), 'WARNING: The signed/verified units feature is DEPRECATED and cannot be used.');
    }
  });
});
