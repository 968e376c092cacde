/** `flotillad bootstrap-config` as a process: input files, flags, --output, one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flotillad, SOME_SHA } from '../bootstrap/support/render.js';

const dir = mkdtempSync('/tmp/fl-bootcmd-');
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n';
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n';

function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0]!;
}

test('an input file with PEM paths relative to it, flags overriding it, --output written 0600 when it holds credentials', async () => {
  writeFileSync(join(dir, 'client.pem'), PEM_CERT);
  writeFileSync(join(dir, 'client-key.pem'), PEM_KEY);
  const inputs = join(dir, 'in.yaml');
  writeFileSync(inputs, `etcd_servers: https://10.0.0.1:2379\netcd_certfile: client.pem\netcd_keyfile: client-key.pem\nrelease_url: https://example.com/r.tgz\nrelease_sha256: ${'0'.repeat(64)}\nmetadata: {role: web}\nconfig: {verbosity: 1}\n`);
  const out = join(dir, 'out.ign');
  const r = await flotillad(['bootstrap-config', '--inputs', inputs, '--format', 'ignition', '--metadata', 'role=db', '--set', 'disable_engine=true', '-o', out]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const text = readFileSync(out, 'utf8');
  const conf = decodeURIComponent(/"data:,([^"]*)"/.exec(text.slice(text.indexOf('flotillad.conf')))![1]!);
  assert.match(conf, /^metadata=role=db$/m);
  assert.match(conf, /^verbosity=1$/m);
  assert.match(conf, /^disable_engine=true$/m);
  assert.ok(text.includes(encodeURIComponent(PEM_KEY)));
  assert.ok(text.includes(`sha256-${'0'.repeat(64)}`));

  const plain = join(dir, 'plain.yaml');
  const p = await flotillad(['bootstrap-config', '--format', 'cloud-init', '--etcd-servers', 'http://10.0.0.1:2379', '--release-url', 'http://e/r.tgz', '--release-sha256', SOME_SHA, '-o', plain]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(statSync(plain).mode & 0o777, 0o644);
});

test('bad input: one line naming it, non-zero exit, nothing written', async () => {
  const out = join(dir, 'never.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'etcd_servers: [http://a:2379\n');
  const cases: Array<[string[], RegExp, number]> = [
    [['--format', 'cloud-init', '--release-url', 'http://e/r.tgz', '--release-sha256', SOME_SHA], /^flotillad bootstrap-config: etcd_servers is missing/, 1],
    [['--format', 'cloud-init', '--inputs', join(dir, 'missing.yaml')], /^flotillad bootstrap-config: input file .*missing\.yaml cannot be read \(ENOENT\)/, 1],
    [['--format', 'cloud-init', '--inputs', bad], /^flotillad bootstrap-config: input file .*bad\.yaml line \d: .*: fix the YAML$/, 1],
    [['--format', 'cloud-init', '--etcd-servers', 'http://a:2379', '--release-url', 'http://e/r.tgz', '--release-sha256', SOME_SHA, '--set', 'verbosity'], /--set "verbosity" is not KEY=VALUE/, 1],
    [['--format', 'kickstart'], /argument 'kickstart' is invalid\. Allowed choices are cloud-init, ignition, coreos-cloudinit/, 2],
    [[], /required option '--format <format>' not specified/, 2],
  ];
  for (const [args, pattern, code] of cases) {
    const r = await flotillad(['bootstrap-config', ...args, '-o', out]);
    assert.match(oneLine(r.stderr), pattern);
    assert.equal(r.code, code, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(existsSync(out), false);
  }
});
