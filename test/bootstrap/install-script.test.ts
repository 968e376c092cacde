import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { installScript } from '../../src/bootstrap/install-script.js';
import { COREOS_SUBSTITUTIONS, JINJA_DELIMITERS } from '../../src/bootstrap/formats.js';

test('the install script is valid sh and passes unchanged through jinja and coreos-cloudinit substitution', () => {
  const script = installScript();
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const w of [...JINJA_DELIMITERS, ...COREOS_SUBSTITUTIONS]) assert.ok(!script.includes(w), `the script holds ${w}`);
});
