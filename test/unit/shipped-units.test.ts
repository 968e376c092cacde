/** Every unit file we ship in units/ (and its subfolders) must parse, validate and have a valid name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { UnitFile, parseRequirements, validateRequirements, validateUnitName } from '../../src/unit/index.js';
import { UNITS_ROOT, shippedUnitFiles } from '../support/shipped-units.js';

test('units/ files parse and satisfy fleet’s rules', () => {
  const files = shippedUnitFiles();
  const names = files.map((f) => relative(UNITS_ROOT, f));
  assert.ok(names.includes('hello.service'));
  assert.ok(names.includes('kubernetes/kube-apiserver.service'));
  for (const path of files) {
    const name = path.split('/').pop() as string;
    validateUnitName(name);
    const file = UnitFile.parse(readFileSync(path, 'utf8'));
    const { requirements, warnings } = parseRequirements(file, name);
    assert.deepEqual(warnings, [], name);
    validateRequirements(requirements);
    assert.ok(file.description(), `${name} has no Description`);
  }
});
