/**
 * The list invocations flotctl runs without commander (list-request.ts): what
 * it accepts means what commander makes of the same words, and everything
 * else is left to the full CLI.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { listOptions, type ListOptions } from '../../src/cli/commands/list-options.js';
import { GLOBAL_FLAGS } from '../../src/cli/globals.js';
import { listRequest, type ListRequest } from '../../src/cli/list-request.js';
import { Output, type OutputStream } from '../../src/cli/output.js';
import { buildProgram } from '../../src/cli/program.js';

const sink = (): OutputStream => ({ write: () => true });

/** What commander parses from argv: the global flags it took from the command line, and the list command's options; its action is not run. */
async function commanderReading(argv: readonly string[]): Promise<ListRequest> {
  const { program } = buildProgram(new Output({ stdout: sink(), stderr: sink(), env: {} }), {});
  let seen: { command: string; list: ListOptions } | undefined;
  for (const name of ['list-units', 'list-machines']) {
    const cmd = program.commands.find((c) => c.name() === name) as Command;
    cmd.action((opts: Record<string, unknown>) => {
      seen = { command: name, list: listOptions(opts) };
    });
  }
  await program.parseAsync([...argv], { from: 'user' });
  assert.ok(seen, `commander ran no list command for ${argv.join(' ')}`);
  const globals: ListRequest['globals'] = {};
  for (const f of GLOBAL_FLAGS) {
    if (program.getOptionValueSource(f.key) === 'cli') globals[f.key] = program.opts()[f.key] as string | true;
  }
  return { command: seen.command as ListRequest['command'], globals, list: seen.list };
}

const ACCEPTED: ReadonlyArray<readonly string[]> = [
  ['list-units'],
  ['list-machines'],
  ['list-units', '--no-legend'],
  ['list-units', '-l'],
  ['list-units', '--full'],
  ['list-units', '--l'],
  ['list-units', '--fields', 'unit,hash'],
  ['list-units', '--fields=unit,failure'],
  ['list-units', '--fields='],
  ['list-units', '--fields', 'bogus'],
  ['list-units', '--fields', 'unit', '--fields', 'hash'],
  ['list-machines', '-l', '--no-legend', '--fields', 'machine,version'],
  ['--json', 'list-units'],
  ['--debug', '--json', 'list-machines', '--full'],
  ['--endpoint', 'unix:///run/x.sock', 'list-units'],
  ['--endpoint=http://127.0.0.1:1', 'list-units'],
  ['--driver', 'etcd', '--endpoint', 'http://127.0.0.1:2379', '--etcd-key-prefix', '/p/', 'list-machines'],
  ['--driver', 'bogus', 'list-units'],
  ['--endpoint', 'unix:///a.sock', '--endpoint', 'unix:///b.sock', 'list-units'],
  ['--request-timeout', '0.5', '--ca-file', '/x.pem', '--username', 'u', '--password', 'p', 'list-units'],
  ['--tunnel', 'bastion:22', '--ssh-username', 'core', 'list-machines'],
];

const LEFT_TO_COMMANDER: ReadonlyArray<readonly string[]> = [
  [],
  ['list-m'],
  ['list-unit-files'],
  ['help', 'list-units'],
  ['list-units', '--help'],
  ['list-units', '-h'],
  ['-v', 'list-units'],
  ['list-units', '--json'],
  ['list-units', '--endpoint', 'unix:///x.sock'],
  ['--full', 'list-units'],
  ['list-units', 'extra'],
  ['list-units', '--'],
  ['--', 'list-units'],
  ['list-units', '--fields'],
  ['list-units', '--fields', '--full'],
  ['--endpoint', 'list-units'],
  ['--endpoint', '-x', 'list-units'],
  ['--debug=1', 'list-units'],
  ['--bogus', 'list-units'],
  ['list-units', '-lx'],
  ['list-units', '--legend'],
  ['list-units', '--no-legend=1'],
  ['list-units', '-'],
];

describe('listRequest', () => {
  it('reads its forms as commander does', async () => {
    for (const argv of ACCEPTED) {
      const req = listRequest(argv);
      assert.ok(req, argv.join(' '));
      assert.deepEqual(req, await commanderReading(argv), argv.join(' '));
    }
  });

  it('reads the flags given, and defaults for the rest', () => {
    assert.deepEqual(listRequest(['list-units']), { command: 'list-units', globals: {}, list: { full: false, legend: true, fields: undefined } });
    assert.deepEqual(listRequest(['--json', '--endpoint=unix:///s', 'list-machines', '--no-legend', '-l', '--fields', 'ip']), {
      command: 'list-machines',
      globals: { json: true, endpoint: 'unix:///s' },
      list: { full: true, legend: false, fields: 'ip' },
    });
  });

  it('leaves everything else to the full CLI', () => {
    for (const argv of LEFT_TO_COMMANDER) assert.equal(listRequest(argv), undefined, argv.join(' '));
  });
});
