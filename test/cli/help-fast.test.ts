/** flotctl's pre-rendered help (fast-answer.ts's fast path, in both entries) is exactly what commander prints. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helpKey, storedHelp } from '../../src/cli/help-request.js';
import { helpOutput } from '../../src/cli/help-render.js';
import { VERSION } from '../../src/util/version.js';
import { flotctl } from './support/run.js';

const FILE = new URL('../../bin/flotctl-help.json', import.meta.url);

describe('pre-rendered help', () => {
  it('keys the help invocations, and only those', () => {
    for (const a of [[], ['help'], ['--help'], ['-h']]) assert.equal(helpKey(a), '');
    assert.equal(helpKey(['help', 'list-units']), 'list-units');
    assert.equal(helpKey(['list-units', '--help']), 'list-units');
    assert.equal(helpKey(['list-units', '-h']), 'list-units');
    for (const a of [['list-units'], ['--debug', 'help'], ['help', '--debug'], ['help', 'a', 'b']]) assert.equal(helpKey(a), undefined, a.join(' '));
  });

  it('a missing, corrupt or other version file gives no text (the full CLI answers)', () => {
    assert.equal(storedHelp(undefined, VERSION, ''), undefined);
    assert.equal(storedHelp('{not json', VERSION, ''), undefined);
    assert.equal(storedHelp(JSON.stringify({ version: '0.0.0-other', texts: { '': 'x' } }), VERSION, ''), undefined);
    assert.equal(storedHelp(JSON.stringify({ version: VERSION, texts: { '': 7 } }), VERSION, ''), undefined);
    assert.equal(storedHelp(JSON.stringify({ version: VERSION, texts: {} }), VERSION, 'toString'), undefined);
    assert.equal(storedHelp(JSON.stringify({ version: VERSION, texts: { '': 'x' } }), VERSION, ''), 'x');
  });

  it('equals what the program prints for every help invocation it serves', async () => {
    const { version, texts } = JSON.parse(readFileSync(FILE, 'utf8')) as { version: string; texts: Record<string, string> };
    assert.equal(version, VERSION);
    assert.ok(Object.keys(texts).length > 10);
    for (const args of [[], ['help'], ['--help'], ['-h']]) assert.equal(texts[''], (await helpOutput(args)).stdout, args.join(' '));
    for (const name of Object.keys(texts).filter((k) => k !== '')) {
      for (const args of [['help', name], [name, '--help']]) assert.equal(texts[name], (await helpOutput(args)).stdout, args.join(' '));
    }
  });

  it('the built flotctl prints it, exit 0', async () => {
    const { texts } = JSON.parse(readFileSync(FILE, 'utf8')) as { texts: Record<string, string> };
    const r = await flotctl(['help', 'list-units']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, texts['list-units'], '']);
  });
});
