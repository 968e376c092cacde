import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { commandLine, journalctlCommand, shellQuote, systemctlCommand } from '../../../src/client/remote/commands.js';

describe('remote command lines', () => {
  it('quotes for a POSIX shell: what sh reads back is exactly the argument', () => {
    for (const arg of ['plain.service', 'web@1.service', "it's", 'a b', '$HOME', 'back\\slash', '"q"', '', '*']) {
      const echoed = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(arg)}`], { encoding: 'utf8' });
      assert.equal(echoed, arg);
    }
  });

  it('says --user to a machine whose agent drives a user manager', () => {
    assert.equal(systemctlCommand('system', ['status', '-l', 'a.service']), 'systemctl status -l a.service');
    assert.equal(systemctlCommand('user', ['status', '-l', 'a.service']), 'systemctl --user status -l a.service');
  });

  it("builds fleet's journalctl line, with --user-unit, sudo and follow", () => {
    assert.equal(
      journalctlCommand('system', 'a.service', { lines: 10, follow: false, output: 'short', sudo: false }),
      'journalctl --unit a.service --no-pager -n 10 --output short',
    );
    assert.equal(
      journalctlCommand('user', 'a.service', { lines: 0, follow: true, output: 'json pretty', sudo: true }),
      "sudo journalctl --user-unit a.service --no-pager -n 0 --output 'json pretty' -f",
    );
    assert.equal(commandLine(['echo', 'x y']), "echo 'x y'");
  });
});
