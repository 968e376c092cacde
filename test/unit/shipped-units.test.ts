/** Every unit file we ship in units/ (and its subfolders) must parse, validate (fleet's rules, faithful storage, limits) and have a valid name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { UnitFile, validateUnit } from '../../src/unit/index.js';
import { UNITS_ROOT, shippedUnitFiles } from '../support/shipped-units.js';

test('units/ files parse and satisfy fleet’s rules', () => {
  const files = shippedUnitFiles();
  const names = files.map((f) => relative(UNITS_ROOT, f));
  assert.ok(names.includes('hello.service'));
  assert.ok(names.includes('kubernetes/kube-apiserver.service'));
  for (const path of files) {
    const name = path.split('/').pop() as string;
    const file = UnitFile.parse(readFileSync(path, 'utf8'));
    const { warnings } = validateUnit(file, name);
    assert.deepEqual(warnings, [], name);
    assert.ok(file.description(), `${name} has no Description`);
  }
});
