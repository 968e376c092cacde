/** The output layer: tables in fleet's tabwriter layout, legends, colour rules, JSON. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Output, createOutput, formatTable, terminalSafe, terminalSafeCell } from '../../src/cli/output.js';

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

/** As flotctl makes its output: with chalk's colours loaded when a stream is a TTY. */
async function processOutput(opts: { tty: boolean; env?: Record<string, string> }) {
  const stdout = new Capture(opts.tty);
  const stderr = new Capture(opts.tty);
  return { out: await createOutput({ stdout, stderr, env: opts.env ?? {} }), stdout, stderr };
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

  it('never colours a stream that is not a TTY', async () => {
    for (const a of [output({ tty: false }), await processOutput({ tty: false })]) {
      a.out.table(['unit'], [['x']], { legend: true });
      a.out.error('boom');
      a.out.err('WARNING: careful');
      assert.ok(!a.stdout.text.includes(ESC) && !a.stderr.text.includes(ESC));
    }
  });

  it('colours a TTY, unless NO_COLOR is set', async () => {
    const a = await processOutput({ tty: true });
    a.out.error('boom');
    a.out.table(['unit'], [['x']], { legend: true });
    assert.ok(a.stderr.text.includes(ESC) && a.stdout.text.includes(ESC));
    // Colour codes must not change the layout.
    assert.equal(a.stdout.text.replace(/\u001b\[\d+m/g, ''), 'UNIT\nx\n');
    const b = await processOutput({ tty: true, env: { NO_COLOR: '1' } });
    b.out.error('boom');
    b.out.table(['unit'], [['x']], { legend: true });
    assert.ok(!b.stderr.text.includes(ESC) && !b.stdout.text.includes(ESC));
  });

  it('colours only the stream that is a TTY', async () => {
    const stdout = new Capture(true);
    const stderr = new Capture(false);
    const out = await createOutput({ stdout, stderr, env: {} });
    out.error('boom');
    out.table(['unit'], [['x']], { legend: true });
    assert.equal(stdout.text, '\u001b[1mUNIT\u001b[22m\nx\n');
    assert.equal(stderr.text, 'boom\n');
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

describe('terminal control characters from the store', () => {
  // ESC (CSI, OSC title), C1 CSI, BEL, BS, CR, DEL, NUL, bidi override and isolate, line separator
  const hostile = 'a\u001b[2Jb\u001b]0;t\u0007c\u009b31md\be\rf\u007fg\u0000h\u202ei\u2066j\u2028k';
  const shown = 'a\\x1b[2Jb\\x1b]0;t\\x07c\\x9b31md\\x08e\\x0df\\x7fg\\x00h\\u202ei\\u2066j\\u2028k';
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029\u2066-\u2069]/;

  it('are shown escaped; tab and newline are kept in lines, escaped in cells; plain text is returned as is', () => {
    assert.equal(terminalSafe(hostile), shown);
    assert.equal(terminalSafe('a\tb\nc'), 'a\tb\nc');
    assert.equal(terminalSafeCell('a\tb\nc'), 'a\\x09b\\x0ac');
    const plain = 'hello.service 113f16a7.../127.0.1.1 région=ü 日本';
    assert.equal(terminalSafe(plain), plain);
    assert.equal(terminalSafeCell(plain), plain);
  });

  it('every line and table the CLI prints is escaped, before colour and layout', async () => {
    for (const tty of [false, true]) {
      const a = await processOutput({ tty });
      a.out.out(`Unit ${hostile} launched`);
      a.out.err(`WARNING: ${hostile}`);
      a.out.error(`Error: ${hostile}`);
      a.out.debugEnabled = true;
      a.out.debug(hostile);
      a.out.table(['unit', 'desc'], [[hostile, 'x\ty'], ['b', 'c']], { legend: false });
      const plain = (t: string): string => t.replace(/\u001b\[\d+m/g, '');
      assert.doesNotMatch(plain(a.stdout.text), CONTROL, `stdout, tty=${tty}`);
      assert.doesNotMatch(plain(a.stderr.text), CONTROL, `stderr, tty=${tty}`);
      assert.ok(a.stdout.text.includes(`Unit ${shown} launched\n`));
      // the layout measures the escaped cells, so columns still line up
      assert.ok(plain(a.stdout.text).endsWith(formatTable([[shown, 'x\\x09y'], ['b', 'c']])), a.stdout.text);
    }
  });

  it('--json stays exact JSON: it parses to the very same strings, with no raw control character in the text', async () => {
    const a = await processOutput({ tty: true });
    a.out.json([{ desc: hostile, n: 1 }]);
    assert.deepEqual(JSON.parse(a.stdout.text), [{ desc: hostile, n: 1 }]);
    assert.doesNotMatch(a.stdout.text, CONTROL);
  });

  it('a stored file (cat) is byte-exact off a terminal; on one its controls are escaped (CRLF kept) with a warning', async () => {
    const file = `[Unit]\r\nDescription=${hostile}\n\t[Service]\n`;
    const pipe = output({ tty: false });
    pipe.out.storedFile(file, 'unit file x.service');
    assert.equal(pipe.stdout.text, file);
    assert.equal(pipe.stderr.text, '');
    const tty = output({ tty: true, env: { NO_COLOR: '1' } });
    tty.out.storedFile(file, 'unit file x.service');
    assert.equal(tty.stdout.text, `[Unit]\r\nDescription=${shown}\n\t[Service]\n`);
    assert.match(tty.stderr.text, /^WARNING: unit file x\.service holds terminal control characters, shown escaped .*redirect the output for the exact bytes\n$/);
    const clean = await processOutput({ tty: true });
    clean.out.storedFile('[Service]\nExecStart=/bin/true\n', 'unit file y.service');
    assert.deepEqual([clean.stdout.text, clean.stderr.text], ['[Service]\nExecStart=/bin/true\n', '']);
  });
});
