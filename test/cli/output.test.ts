/** The output layer: tables in fleet's tabwriter layout, legends, colour rules, JSON. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Output, formatTable } from '../../src/cli/output.js';

class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string, cb?: (err?: Error | null) => void): boolean {
    this.text += chunk;
    cb?.();
    return true;
  }
}

function output(opts: { tty?: boolean; env?: Record<string, string> } = {}) {
  const stdout = new Capture(opts.tty);
  const stderr = new Capture(opts.tty);
  return { out: new Output({ stdout, stderr, env: opts.env ?? {} }), stdout, stderr };
}

const ESC = '\u001b[';

describe('formatTable', () => {
  it('pads every column but the last with tabs to a multiple of 8, at least one column of space', () => {
    assert.equal(
      formatTable([
        ['UNIT', 'HASH', 'DSTATE', 'STATE', 'TARGET'],
        ['hello.service', 'e55c0ae', 'launched', 'launched', '113f16a7.../172.17.8.103'],
      ]),
      'UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTARGET\n' + 'hello.service\te55c0ae\tlaunched\tlaunched\t113f16a7.../172.17.8.103\n',
    );
  });

  it('a cell of exactly 8 characters still gets a tab after it', () => {
    assert.equal(formatTable([['12345678', 'x'], ['a', 'y']]), '12345678\tx\na\t\ty\n');
  });
});

describe('Output', () => {
  it('prints the upper-cased header unless --no-legend', () => {
    const a = output();
    a.out.table(['unit', 'sub'], [['a.service', 'running']], { legend: true });
    assert.equal(a.stdout.text, 'UNIT\t\tSUB\na.service\trunning\n');
    const b = output();
    b.out.table(['unit', 'sub'], [['a.service', 'running']], { legend: false });
    assert.equal(b.stdout.text, 'a.service\trunning\n');
  });

  it('an empty list prints just the header, or nothing without legend', () => {
    const a = output();
    a.out.table(['unit'], [], { legend: true });
    assert.equal(a.stdout.text, 'UNIT\n');
    const b = output();
    b.out.table(['unit'], [], { legend: false });
    assert.equal(b.stdout.text, '');
  });

  it('adds missing newlines, and sends out/err to the right streams', () => {
    const a = output();
    a.out.out('Unit a.service launched');
    a.out.out('done\n');
    a.out.err('Successfully stopped units [a.service].');
    a.out.error('Error creating units: x');
    assert.equal(a.stdout.text, 'Unit a.service launched\ndone\n');
    assert.equal(a.stderr.text, 'Successfully stopped units [a.service].\nError creating units: x\n');
  });

  it('never colours a stream that is not a TTY', () => {
    const a = output({ tty: false });
    a.out.table(['unit'], [['x']], { legend: true });
    a.out.error('boom');
    a.out.err('WARNING: careful');
    assert.ok(!a.stdout.text.includes(ESC) && !a.stderr.text.includes(ESC));
  });

  it('colours a TTY, unless NO_COLOR is set', () => {
    const a = output({ tty: true });
    a.out.error('boom');
    a.out.table(['unit'], [['x']], { legend: true });
    assert.ok(a.stderr.text.includes(ESC) && a.stdout.text.includes(ESC));
    // Colour codes must not change the layout.
    assert.equal(a.stdout.text.replace(/\u001b\[\d+m/g, ''), 'UNIT\nx\n');
    const b = output({ tty: true, env: { NO_COLOR: '1' } });
    b.out.error('boom');
    b.out.table(['unit'], [['x']], { legend: true });
    assert.ok(!b.stderr.text.includes(ESC) && !b.stdout.text.includes(ESC));
  });

  it('debug lines only when enabled', () => {
    const a = output();
    a.out.debug('hidden');
    a.out.debugEnabled = true;
    a.out.debug('shown');
    assert.equal(a.stderr.text, 'DEBUG shown\n');
  });

  it('JSON is one parseable document', () => {
    const a = output();
    a.out.json([{ unit: 'a.service', machine: null }]);
    assert.deepEqual(JSON.parse(a.stdout.text), [{ unit: 'a.service', machine: null }]);
  });
});
