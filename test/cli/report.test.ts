/** The CLI's one error policy: which exit code and which single line each kind of failure gets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { Output } from '../../src/cli/output.js';
import { report } from '../../src/cli/program.js';
import { StoreUnreachableError } from '../../src/client/store-errors.js';
import { InvalidInputError, UsageError } from '../../src/util/errors.js';

function capture() {
  const stdout = { text: '', write(s: string) { this.text += s; return true; } };
  const stderr = { text: '', write(s: string) { this.text += s; return true; } };
  return { output: new Output({ stdout, stderr, env: {} }), stdout, stderr };
}

describe('report', () => {
  it('usage errors: one line, exit 2', () => {
    const c = capture();
    const code = report(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'\n(Did you mean --y?)"), c.output, 'list-units', false);
    assert.equal(code, 2);
    assert.equal(c.stderr.text, "flotctl: unknown option '--x' (did you mean --y?) for command 'list-units'; run 'flotctl help list-units' for usage\n");
    const u = capture();
    assert.equal(report(new UsageError('bad value'), u.output, undefined, false), 2);
    assert.equal(u.stderr.text, 'flotctl: bad value\n');
  });

  it('help and version are not errors', () => {
    const c = capture();
    assert.equal(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), c.output, undefined, false), 0);
    assert.equal(c.stderr.text, '');
  });

  it('fleet-style failures keep their message and exit code', () => {
    const c = capture();
    assert.equal(report(new InvalidInputError('Unit x.service not found'), c.output, 'cat', false), 1);
    assert.equal(c.stderr.text, 'Unit x.service not found\n');
    const d = capture();
    assert.equal(report(new UsageError('deprecated'), d.output, undefined, false), 2);
  });

  it('an unreachable store: one line, exit 3', () => {
    const c = capture();
    assert.equal(report(new StoreUnreachableError(['http://127.0.0.1:1'], 'connect ECONNREFUSED 127.0.0.1:1'), c.output, undefined, false), 3);
    assert.equal(c.stderr.text, 'flotctl: cluster store unreachable at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n');
  });

  it('anything else is an internal error: one line, stack only with --debug', () => {
    const c = capture();
    assert.equal(report(new TypeError('x is undefined'), c.output, undefined, false), 1);
    assert.equal(c.stderr.text, 'flotctl: internal error: x is undefined\n');
    const d = capture();
    report(new TypeError('x is undefined'), d.output, undefined, true);
    assert.match(d.stderr.text, /^flotctl: internal error: x is undefined\nTypeError: x is undefined\n\s+at /);
  });
});
