import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseMetadata } from '../../src/daemon/config.js';
import { InvalidInputError } from '../../src/util/errors.js';

const dir = mkdtempSync('/tmp/fl-cfg-');
const MID = '0123456789abcdef0123456789abcdef';

function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(p, text);
  return p;
}

test('config file values, defaults, and FLOTILLA_ environment overrides', () => {
  const c = loadConfig(file(`machine_id=${MID}\netcd_servers=http://127.0.0.1:1,http://127.0.0.1:2\nagent_ttl=3s\nmetadata=region=eu, role = web\n`), {
    FLOTILLA_PUBLIC_IP: '10.0.0.5',
  });
  assert.deepEqual(c.etcdServers, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  assert.equal(c.agentTtlSeconds, 3);
  assert.equal(c.publicIP, '10.0.0.5');
  assert.deepEqual(c.metadata, { region: 'eu', role: 'web' });
  assert.equal(c.etcdKeyPrefix, '/flotilla/');
  assert.equal(c.keepUnitsOnShutdown, false);
  assert.equal(c.sshPort, 22);
  assert.equal(c.systemdScope, 'system');
  const user = loadConfig(file(`machine_id=${MID}\nssh_port=2222\nsystemd_scope=user\n`), {});
  assert.equal(user.sshPort, 2222);
  assert.equal(user.systemdScope, 'user');
});

test('bad values are refused with a one-line message naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    [`machine_id=xyz\n`, /machine_id "xyz"/],
    [`machine_id=${MID}\nagent_ttl=1\n`, /agent_ttl "1"/],
    [`machine_id=${MID}\nagent_ttl=soon\n`, /agent_ttl "soon"/],
    [`machine_id=${MID}\netcd_servers=ftp://x\n`, /etcd_servers "ftp:\/\/x"/],
    [`machine_id=${MID}\nfrobnicate=1\n`, /unknown key "frobnicate"/],
    [`machine_id=${MID}\ndisable_engine=maybe\n`, /disable_engine "maybe"/],
    [`machine_id=${MID}\nlog_format=xml\n`, /log_format "xml"/],
    [`machine_id=${MID}\nssh_port=22.5\n`, /ssh_port "22.5".*TCP port/],
    [`machine_id=${MID}\nsystemd_scope=session\n`, /systemd_scope "session".*use system .* or user/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => loadConfig(file(text), {}), (err: unknown) => err instanceof InvalidInputError && pattern.test(err.message) && !err.message.includes('\n'));
  }
  assert.throws(() => loadConfig(join(dir, 'missing.conf'), {}), /missing\.conf cannot be read/);
});

test('metadata follows fleet: entries without = ignored, last duplicate wins', () => {
  assert.deepEqual(parseMetadata('a=1,junk,b=2,a=3'), { a: '3', b: '2' });
  assert.deepEqual(parseMetadata(''), {});
});
