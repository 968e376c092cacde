import test from 'node:test';
import assert from 'node:assert/strict';
import { describeFailedCommand } from '../../src/systemd/exec-status.js';

// systemd's a(sasbttttuii): path, argv, ignore, start, start-mono, exit, exit-mono, pid, code, status.
const run = (argv: string[], code: number, status: number, opts: { ignore?: boolean; exited?: boolean } = {}): unknown[] =>
  [argv[0], argv, opts.ignore ?? false, 1n, 1n, opts.exited === false ? 0n : 2n, 2n, 42, code, status];

test('the first failed start command is named, in the order systemd runs them', () => {
  const props = new Map<string, unknown>([
    ['ExecStartPre', [run(['/usr/bin/docker', 'rm', '-f', 'x'], 1, 1, { ignore: true }), run(['/usr/bin/docker', 'pull', 'r/etcd:3'], 1, 1)]],
    ['ExecStart', [run(['/usr/bin/docker', 'run', 'x'], 0, 0, { exited: false })]],
  ]);
  assert.equal(describeFailedCommand(props), 'ExecStartPre=/usr/bin/docker pull r/etcd:3 exited with status 1');
});

test('a command killed by a signal says so; successes and commands that never ran are not failures', () => {
  assert.equal(describeFailedCommand(new Map([['ExecStart', [run(['/bin/sleep', '9'], 2, 9)]]])), 'ExecStart=/bin/sleep 9 was killed by signal 9');
  assert.equal(describeFailedCommand(new Map([['ExecStart', [run(['/bin/true'], 1, 0)]]])), undefined);
  assert.equal(describeFailedCommand(new Map([['ExecStart', [run(['/bin/false'], 1, 1, { exited: false })]]])), undefined);
});

test('values not shaped like systemd\'s are skipped, and a long command line is cut', () => {
  assert.equal(describeFailedCommand(new Map<string, unknown>([['ExecStart', ['nonsense', [1, 2]]]])), undefined);
  const long = describeFailedCommand(new Map([['ExecStart', [run(['/bin/x', 'a'.repeat(500)], 1, 3)]]]));
  assert.ok(long !== undefined && long.length < 200 && long.endsWith('exited with status 3'), long);
});
