import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UnitFile, type UnitOption } from '../../src/unit/index.js';

const section = fc.constantFrom('Unit', 'Service', 'X-Fleet', 'Install', 'Socket');
const optionName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
// Values as the parser can produce them: trimmed, no bare newlines, no
// trailing backslash (continuations are covered by example tests).
const value = fc
  .string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '=', '#', ';', '"', '\\', '%', '[', ']', '/', '-', 'é') })
  .map((s) => s.replace(/[\s\\]+$/, '').trim());
// fc.record builds null-prototype objects; deepStrictEqual would reject them.
const option = fc.record({ section, name: optionName, value }).map((o): UnitOption => ({ ...o }));
const padding = fc.constantFrom('', ' ', '\t', '  ');
const comment = fc.constantFrom('', '# a comment\n', '; another\n', '\n');

/** Renders options as a messy file: repeated headers, padding, comments. */
function render(options: readonly UnitOption[], pads: readonly string[], comments: readonly string[]): string {
  let out = comments[0] ?? '';
  let current: string | undefined;
  options.forEach((o, i) => {
    const pad = pads[i % Math.max(pads.length, 1)] ?? '';
    if (o.section !== current || i % 3 === 2) out += `[${o.section}]${pad}\n`;
    current = o.section;
    out += `${pad}${o.name}${pad}=${pad}${o.value}${pad}\n${comments[i % Math.max(comments.length, 1)] ?? ''}`;
  });
  return out;
}

test('property: parse recovers the option list from messy text; serialize is a fixed point', () => {
  fc.assert(
    fc.property(fc.array(option, { maxLength: 12 }), fc.array(padding, { minLength: 1, maxLength: 4 }), fc.array(comment, { minLength: 1, maxLength: 3 }), (options, pads, comments) => {
      const parsed = UnitFile.parse(render(options, pads, comments));
      assert.deepEqual(parsed.options, options);
      assert.equal(parsed.hash(), UnitFile.fromOptions(options).hash());
      const again = UnitFile.parse(parsed.serialize());
      assert.equal(again.serialize(), parsed.serialize());
      assert.deepEqual(UnitFile.parse(again.serialize()).options, again.options);
    }),
    { numRuns: 300 },
  );
});
