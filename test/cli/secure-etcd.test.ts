/**
 * The flotctl binary against a real etcd that requires TLS client
 * certificates and a password: it works with the right material, and each
 * wrong piece is one line naming the cause and the setting, exit non-zero.
 *
 * The etcd driver only, unlike the other *-etcd files (forEachDriver): what
 * is tested is flotctl's own TLS and password to etcd, which the api driver
 * never uses (flotillad holds the store's credentials; the API's own TLS is
 * test/client/api-transport.test.ts's and test/api/listeners.test.ts's).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../../src/util/deadline.js';
import { startSecureEtcd, type SecureEtcd } from '../support/secure-etcd.js';
import { FLOTCTL, flotctl, type RunResult } from './support/run.js';

let s: SecureEtcd;

before(async () => {
  s = await startSecureEtcd({ members: 1, prefix: '/sec/' });
});

after(async () => {
  await s?.stop();
});

function env(override: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    FLOTCTL_DRIVER: 'etcd',
    FLOTCTL_ENDPOINT: s.endpoints.join(','),
    FLOTCTL_ETCD_KEY_PREFIX: s.prefix,
    FLOTCTL_CA_FILE: s.tls.ca.cert,
    FLOTCTL_CERT_FILE: s.tls.client.cert,
    FLOTCTL_KEY_FILE: s.tls.client.key,
    FLOTCTL_USERNAME: s.user.name,
    FLOTCTL_PASSWORD: s.user.password,
    ...override,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

function oneLine(r: RunResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.equal(r.stdout, '');
  return lines[0] as string;
}

async function fails(override: Record<string, string | undefined>, code: number, pattern: RegExp, args = ['list-machines']): Promise<void> {
  const r = await flotctl(args, { env: env(override) });
  assert.equal(r.code, code, `${JSON.stringify(override)}: exit ${r.code}, stderr ${r.stderr}`);
  assert.match(oneLine(r), pattern);
}

describe('flotctl against a secured etcd', () => {
  it('works with the right material, from the variables or the flags', async () => {
    const r = await flotctl(['list-machines', '--no-legend'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const flags = ['--ca-file', s.tls.ca.cert, '--cert-file', s.tls.client.cert, '--key-file', s.tls.client.key, '--username', s.user.name];
    const f = await flotctl([...flags, '--etcd-key-prefix', s.prefix, 'list-units'], { env: { FLOTCTL_DRIVER: 'etcd', FLOTCTL_ENDPOINT: s.endpoints.join(','), FLOTCTL_PASSWORD: s.user.password } });
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stderr, '');
  });

  it('a key prefix the user may not use: one line naming the missing permission', async () => {
    await fails({ FLOTCTL_ETCD_KEY_PREFIX: '/elsewhere/' }, 1, /^flotctl: etcd user "flotilla" may not read and write the key prefix \/elsewhere\/: grant its role readwrite permission on that prefix$/);
  });

  it('a wrong CA: one line naming it', async () => {
    await fails({ FLOTCTL_CA_FILE: s.wrongCa.cert }, 1, /^flotctl: etcd's certificate at https:\/\/127\.0\.0\.1:\d+ is not signed by the CA in FLOTCTL_CA_FILE .*wrong-ca\.pem: give the CA that signed etcd's certificate$/);
    // No CA at all: the system's CAs, which do not know the test CA. Never unverified.
    await fails({ FLOTCTL_CA_FILE: undefined }, 1, /is not signed by a CA this system trusts: give the CA that signed it with --ca-file$/);
  });

  it('a missing or foreign client certificate: one line naming it', async () => {
    await fails({ FLOTCTL_CERT_FILE: undefined, FLOTCTL_KEY_FILE: undefined }, 1, /^flotctl: etcd at https:\/\/127\.0\.0\.1:\d+ requires a client certificate: give --cert-file and --key-file$/);
    await fails({ FLOTCTL_CERT_FILE: s.strangerClient.cert, FLOTCTL_KEY_FILE: s.strangerClient.key }, 1, /refused the client certificate FLOTCTL_CERT_FILE .*stranger\.pem: it is not signed by a CA etcd trusts/);
  });

  it('a wrong or missing password: one line naming it', async () => {
    await fails({ FLOTCTL_PASSWORD: 'not the password' }, 1, /^flotctl: etcd refused user "flotilla": wrong user name or password \(FLOTCTL_USERNAME, FLOTCTL_PASSWORD\)$/);
    await fails({ FLOTCTL_USERNAME: undefined, FLOTCTL_PASSWORD: undefined }, 1, /^flotctl: etcd requires authentication: give --username and --password$/);
    // diff's 1 means "something would change": a refusal is an error there, 2.
    const dir = await mkdtemp('/tmp/fl-secdiff-');
    await writeFile(join(dir, 'a.service'), '[Service]\nExecStart=/bin/true\n');
    await fails({ FLOTCTL_PASSWORD: 'not the password' }, 2, /^flotctl: etcd refused user "flotilla": wrong user name or password/, ['diff', dir]);
  });

  it('the wrong scheme and unusable files are named too', async () => {
    const http = s.endpoints[0]?.replace('https://', 'http://') as string;
    await fails({ FLOTCTL_ENDPOINT: http, FLOTCTL_CA_FILE: undefined, FLOTCTL_CERT_FILE: undefined, FLOTCTL_KEY_FILE: undefined, FLOTCTL_USERNAME: undefined, FLOTCTL_PASSWORD: undefined }, 1, /^flotctl: etcd at http:\/\/127\.0\.0\.1:\d+ serves TLS: use https:\/\/127\.0\.0\.1:\d+ in FLOTCTL_ENDPOINT$/);
    await fails({ FLOTCTL_ENDPOINT: http }, 2, /^flotctl: FLOTCTL_CA_FILE is set but FLOTCTL_ENDPOINT has http:\/\/ URLs/);
    await fails({ FLOTCTL_CA_FILE: '/nonexistent/ca.pem' }, 2, /^flotctl: FLOTCTL_CA_FILE \/nonexistent\/ca\.pem does not exist: give a readable PEM file$/);
    await fails({ FLOTCTL_KEY_FILE: undefined }, 2, /^flotctl: FLOTCTL_CERT_FILE is set without --key-file: give both/);
    await fails({ FLOTCTL_KEY_FILE: s.strangerClient.key }, 2, /FLOTCTL_KEY_FILE .*stranger-key\.pem is not the private key of FLOTCTL_CERT_FILE/);
  });

  it('a password given with --password warns, and is not left in the process arguments', async () => {
    // start blocks (no machine will ever launch the unit), so the running process can be looked at.
    const dir = await mkdtemp('/tmp/fl-secunit-');
    await writeFile(join(dir, 'pw.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
    const child = spawn(process.execPath, [FLOTCTL, '--password', 'hunter2-secret', 'start', 'pw.service'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env({ FLOTCTL_PASSWORD: undefined }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await waitFor('the warning', () => (stderr.includes('\n') ? true : undefined), { timeoutMs: 20_000 });
      assert.equal(stderr, 'Warning: --password on the command line is visible to other users (ps): use FLOTCTL_PASSWORD instead\n');
      const cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8');
      assert.ok(cmdline.startsWith('flotctl --password *** start pw.service'), JSON.stringify(cmdline));
      assert.ok(!cmdline.includes('hunter2'), `password visible: ${JSON.stringify(cmdline)}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
      await flotctl(['destroy', 'pw.service'], { env: env() });
    }
  });
});
