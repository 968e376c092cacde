/**
 * cloud-config/ holds the output of `flotillad bootstrap-config` for
 * cloud-config/example-inputs.yaml: rendered again here through the built
 * program, byte for byte. To refresh them after a change, run the commands in
 * the header of example-inputs.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLOUD_CONFIG, EXAMPLE_INPUTS, flotillad } from './support/render.js';

const FILES = [
  ['cloud-init', 'cloud-init.yaml'],
  ['ignition', 'flatcar.ign'],
  ['coreos-cloudinit', 'coreos-cloudinit.yaml'],
] as const;

for (const [format, file] of FILES) {
  test(`cloud-config/${file} is bootstrap-config --format ${format} of example-inputs.yaml`, async () => {
    const r = await flotillad(['bootstrap-config', '--inputs', EXAMPLE_INPUTS, '--format', format]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(readFileSync(`${CLOUD_CONFIG}${file}`, 'utf8'), r.stdout, `cloud-config/${file} is stale: re-render it (see cloud-config/example-inputs.yaml)`);
  });
}
