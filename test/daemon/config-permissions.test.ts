import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configPermissionWarnings, credentialWarnings } from '../../src/daemon/config-permissions.js';

test('a config holding etcd_password is flagged when group or others can read it', () => {
  const text = 'etcd_servers=https://e:2379\netcd_password=s3cret\n';
  assert.deepEqual(credentialWarnings({ path: '/c', mode: 0o100600 }, text), []);
  for (const mode of [0o100644, 0o100640, 0o100604]) {
    const [w, ...rest] = credentialWarnings({ path: '/c', mode }, text);
    assert.equal(rest.length, 0);
    assert.match(w!, /^config file \/c holds etcd_password but is readable by other users \(mode 06[04][04]\): chmod 600 \/c$/);
  }
  // No credential, no warning, whatever the mode; an empty password is none.
  assert.deepEqual(credentialWarnings({ path: '/c', mode: 0o100644 }, 'etcd_servers=http://e:2379\netcd_password=\n'), []);
});

test('the key file named by etcd_keyfile is checked on disk, relative to the config', () => {
  const dir = mkdtempSync('/tmp/fl-perm-');
  const config = join(dir, 'flotillad.conf');
  writeFileSync(config, 'etcd_keyfile=client-key.pem\n', { mode: 0o600 });
  writeFileSync(join(dir, 'client-key.pem'), 'KEY', { mode: 0o644 });
  chmodSync(join(dir, 'client-key.pem'), 0o644);
  assert.deepEqual(configPermissionWarnings(config, 'etcd_keyfile=client-key.pem\n'), [
    `etcd_keyfile ${join(dir, 'client-key.pem')} is readable by other users (mode 0644): chmod 600 ${join(dir, 'client-key.pem')}`,
  ]);
  chmodSync(join(dir, 'client-key.pem'), 0o600);
  assert.deepEqual(configPermissionWarnings(config, 'etcd_keyfile=client-key.pem\n'), []);
});
