/**
 * flotillad's start-up against a real etcd that requires TLS client
 * certificates and a password: a wrong CA, a missing client certificate or a
 * wrong password ends it at once with one line naming the setting (retrying
 * would never help); the right material gets past etcd. That flotillad then
 * runs a host is shown by test/cluster/secure.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSecureEtcd, type SecureEtcd } from '../support/secure-etcd.js';

const FLOTILLAD = fileURLToPath(new URL('../../src/daemon/main.js', import.meta.url));
const MID = '0123456789abcdef0123456789abcdef';

let s: SecureEtcd;
let dir: string;

before(async () => {
  s = await startSecureEtcd({ members: 1 });
  dir = await mkdtemp('/tmp/fl-secd-');
});

after(async () => {
  await s?.stop();
});

interface Exit {
  code: number | null;
  stderr: string;
}

/** flotillad with a config of the right material, changed by `override` (undefined: the key left out). */
async function flotillad(override: Record<string, string | undefined>): Promise<Exit> {
  const lines: Record<string, string | undefined> = {
    machine_id: MID,
    etcd_servers: s.endpoints.join(','),
    etcd_key_prefix: s.prefix,
    etcd_request_timeout: '2s',
    etcd_cafile: s.tls.ca.cert,
    etcd_certfile: s.tls.client.cert,
    etcd_keyfile: s.tls.client.key,
    etcd_username: s.user.name,
    etcd_password: s.user.password,
    units_directory: join(dir, 'units'),
    // No API socket: several of these start one after the other and none needs one.
    api_socket: '',
    // No systemd here: a flotillad that gets past etcd stops at the bus.
    systemd_bus_address: `unix:path=${join(dir, 'no-bus')}`,
    ...override,
  };
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  const text = Object.entries(lines).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${v}"\n`).join('');
  await writeFile(path, text, { mode: 0o600 });
  const child = spawn(process.execPath, [FLOTILLAD, '--config', path], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

function oneLine(e: Exit): string {
  const lines = e.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got:\n${e.stderr}`);
  return lines[0] as string;
}

describe('flotillad start-up against a secured etcd', () => {
  it('a wrong CA: one line naming etcd_cafile, exit 1', async () => {
    const e = await flotillad({ etcd_cafile: s.wrongCa.cert });
    assert.equal(e.code, 1, e.stderr);
    assert.match(oneLine(e), /^flotillad: etcd's certificate at https:\/\/127\.0\.0\.1:\d+ is not signed by the CA in etcd_cafile .*wrong-ca\.pem: give the CA that signed etcd's certificate$/);
  });

  it('no client certificate: one line naming etcd_certfile and etcd_keyfile, exit 1', async () => {
    const e = await flotillad({ etcd_certfile: undefined, etcd_keyfile: undefined });
    assert.equal(e.code, 1, e.stderr);
    assert.match(oneLine(e), /^flotillad: etcd at https:\/\/127\.0\.0\.1:\d+ requires a client certificate: give etcd_certfile and etcd_keyfile$/);
  });

  it('a wrong password: one line naming etcd_username and etcd_password, exit 1', async () => {
    const e = await flotillad({ etcd_password: 'Zq9-not-it' });
    assert.equal(e.code, 1, e.stderr);
    assert.match(oneLine(e), /^flotillad: etcd refused user "flotilla": wrong user name or password \(etcd_username, etcd_password\)$/);
    assert.ok(!e.stderr.includes('Zq9-not-it'), 'the password was printed');
  });

  it('the right material gets past etcd (it stops only at the missing systemd bus)', async () => {
    const e = await flotillad({});
    assert.notEqual(e.code, 0);
    assert.doesNotMatch(e.stderr, /etcd|certificate|password/i);
    assert.match(e.stderr, /no-bus/);
    assert.ok(!e.stderr.includes(s.user.password), 'the password was printed');
  });
});
