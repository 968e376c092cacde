/** Every unit file we ship in units/ must parse, validate (fleet's rules, faithful storage, limits) and have a valid name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UnitFile, validateUnit } from '../../src/unit/index.js';

const dir = fileURLToPath(new URL('../../../units/', import.meta.url));

test('units/ files parse and satisfy fleet’s rules', () => {
  const names = readdirSync(dir);
  assert.ok(names.includes('hello.service'));
  for (const name of names) {
    const file = UnitFile.parse(readFileSync(dir + name, 'utf8'));
    const { warnings } = validateUnit(file, name);
    assert.deepEqual(warnings, [], name);
    assert.ok(file.description(), `${name} has no Description`);
  }
});
