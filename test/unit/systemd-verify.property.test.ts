/**
 * Accepted at submit => systemd's own parser does not reject the syntax of
 * the stored copy (what the agent writes into the units directory): REAL
 * `systemd-analyze verify`, many files per invocation. Only complaints about
 * syntax count (a line without "=", a bad section header, not UTF-8, too
 * long, a section systemd does not know); complaints about content (unknown
 * keys, values, missing executables, unit dependencies) are systemd's
 * business on the host and do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { UnitFile, validateUnit } from '../../src/unit/index.js';
import { InvalidInputError } from '../../src/util/errors.js';
import { unitName, unitText } from './support/unit-text.js';

const run = promisify(execFile);

/** conf-parser.c's messages about a file's structure, as opposed to its settings. */
const SYNTAX = /Missing '='|Missing key name|Invalid section header|Assignment outside of section|[Ll]ine too long|not UTF-8 clean|Unknown section/;

/** systemd's complaints per file, as `file:line: message` lines. */
async function verify(dir: string, files: readonly string[]): Promise<string[]> {
  const out = await run('systemd-analyze', ['verify', '--man=no', ...files], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).then(
    (r) => r.stderr,
    (err: { stderr?: string; code?: unknown }) => {
      if (typeof err.stderr !== 'string') throw err;
      return err.stderr; // non-zero for content problems (missing executables): judged below
    },
  );
  return out.split('\n').filter((l) => /^\/.+\.service:\d+: /.test(l));
}

test('systemd-analyze reports the syntax problems this test looks for', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-verify-'));
  try {
    await writeFile(join(dir, 'bad.service'), '[Unit]\nDescription=x\nno equals sign\n[Service]\nExecStart=/bin/true\n');
    await writeFile(join(dir, 'odd.service'), '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nNoSuchKey=1\n');
    const lines = await verify(dir, ['bad.service', 'odd.service']);
    assert.deepEqual(lines.filter((l) => SYNTAX.test(l)).map((l) => l.replace(dir, '')), ["/bad.service:3: Missing '=', ignoring line."]);
    assert.ok(lines.some((l) => l.includes('odd.service:5') && !SYNTAX.test(l)), lines.join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('property: accepted at submit => systemd-analyze verify does not reject the stored copy\'s syntax', async () => {
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(unitText, unitName), { minLength: 150, maxLength: 150 }), async (units) => {
      const dir = await mkdtemp(join(tmpdir(), 'fl-verify-'));
      try {
        const stored = new Map<string, string>();
        for (const [i, [text, name]] of units.entries()) {
          let file: UnitFile;
          try {
            file = UnitFile.parse(text);
            validateUnit(file, name);
          } catch (err) {
            if (err instanceof InvalidInputError) continue;
            throw err;
          }
          // One file name per generated unit; systemd reads the stored text.
          const fileName = `u${i}.service`;
          stored.set(fileName, file.serialize());
          await writeFile(join(dir, fileName), file.serialize());
        }
        checked += stored.size;
        if (stored.size === 0) return;
        const rejected = (await verify(dir, [...stored.keys()])).filter((l) => SYNTAX.test(l));
        const first = rejected[0];
        if (first !== undefined) {
          const fileName = /\/(u\d+\.service):/.exec(first)?.[1] ?? '';
          assert.fail(`${first.replace(dir, '')}\nstored text:\n${stored.get(fileName)}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 3, endOnFailure: true },
  );
  assert.ok(checked > 100, `only ${checked} accepted files were checked`);
});
