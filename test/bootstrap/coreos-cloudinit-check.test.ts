import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { checkCoreosCloudConfig, formatCheckEntries, substituteCoreosAddresses } from '../../src/bootstrap/coreos-cloudinit-check.js';

const check = (text: string): string[] => formatCheckEntries(checkCoreosCloudConfig(text));

test('header: #cloud-config (trailing space allowed) or a #! script; anything else is an error at line 1', () => {
  assert.deepEqual(check('#cloud-config  \nhostname: h\n'), []);
  assert.deepEqual(check('#!/bin/sh\necho hi\n'), []);
  assert.deepEqual(check('# cloud-config\nhostname: h\n'), ['line 1: error: must be "#cloud-config" or begin with "#!"']);
});

test('keys are matched with - read as _, unknown and deprecated keys warn, write_files under coreos is an info', () => {
  assert.deepEqual(check('#cloud-config\nssh-authorized-keys: [a]\nmanage-etc-hosts: localhost\ncoreos:\n  units:\n    - name: a.service\n      drop-ins:\n        - name: x.conf\n          content: "[Service]"\n'), []);
  assert.deepEqual(check('#cloud-config\nfrob: 1\ncoreos:\n  write_files: []\n  fleet:\n    public-ip: $private_ipv4\n'), [
    'line 2: warning: unrecognized key "frob"',
    'line 4: info: write_files doesn\'t belong under coreos',
    'line 5: warning: deprecated key "fleet" (fleet is no longer shipped in Container Linux)',
  ]);
});

test('permissions must be a quoted octal string: YAML 1.1 reads 0644 as the number 420', () => {
  const file = (perm: string) => `#cloud-config\nwrite_files:\n  - path: /etc/x\n    permissions: ${perm}\n    content: x\n`;
  assert.deepEqual(check(file('"0644"')), []);
  assert.deepEqual(check(file("'755'")), []);
  assert.deepEqual(check(file('0644')), ['line 4: warning: incorrect type for "write_files[0].permissions" (want string)']);
  assert.deepEqual(check(file('"0999"')), ['line 4: error: invalid value 0999']);
  assert.deepEqual(check(file('"644 "')), ['line 4: error: invalid value 644 ']);
});

test('encodings, files under /usr, unit commands and flags', () => {
  const gz = gzipSync('hi\n').toString('base64');
  assert.deepEqual(check(`#cloud-config\nwrite_files:\n  - path: /etc/a\n    encoding: gz+b64\n    content: ${gz}\n  - path: /etc/b\n    encoding: base64\n    content: aGk=\n`), []);
  assert.deepEqual(check('#cloud-config\nwrite_files:\n  - path: /usr/bin/x\n    encoding: b64\n    content: "@@"\n  - path: /etc/c\n    encoding: zip\n'), [
    'line 3: error: file /usr/bin/x is in a read-only filesystem',
    'line 3: error: content of /usr/bin/x cannot be decoded as "b64"',
    'line 7: error: invalid value zip',
  ]);
  assert.deepEqual(check('#cloud-config\ncoreos:\n  units:\n    - name: a.service\n      command: begin\n      enable: "yes"\n      runtime: yes\n    - command: start\n'), [
    'line 5: error: invalid value begin',
    'line 6: warning: incorrect type for "coreos.units[0].enable" (want bool)',
    'line 8: error: coreos.units[1] has no name',
  ]);
  assert.deepEqual(check('#cloud-config\ncoreos:\n  units:\n    - name: a.service\n      enable: true\n      content: "[Service]\\nExecStart=/bin/true\\n"\n'), [
    'line 4: warning: unit a.service is enabled but its content has no [Install] section',
  ]);
});

test('YAML syntax errors name their line', () => {
  const [entry, ...rest] = check('#cloud-config\nhostname: h\nusers: [\n');
  assert.equal(rest.length, 0);
  assert.match(entry!, /^line \d: error: /);
});

test('$private_ipv4 and friends are replaced in the raw text; \\$word stays literal; unknown addresses stay', () => {
  const text = 'a=$private_ipv4 b=$public_ipv4 c=\\$private_ipv4 d=$private_ipv6';
  assert.equal(substituteCoreosAddresses(text, { private_ipv4: '10.0.0.1', public_ipv4: '203.0.113.1' }), 'a=10.0.0.1 b=203.0.113.1 c=$private_ipv4 d=$private_ipv6');
});
