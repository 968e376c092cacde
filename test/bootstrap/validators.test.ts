/**
 * Every rendered bootstrap passes its own system's validator: cloud-init's
 * schema (after cloud-init's own jinja rendering when the file is a
 * template), Ignition's ignition-validate, and for coreos-cloudinit (not
 * packaged) the project's checker of its documented rules. The example files
 * and fresh renders of every addressing mode are checked; each validator is
 * also shown to refuse a broken file, so these checks can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RawInputs } from '../../src/bootstrap/inputs.js';
import { checkCoreosCloudConfig, formatCheckEntries, substituteCoreosAddresses } from '../../src/bootstrap/coreos-cloudinit-check.js';
import { loadConfig } from '../../src/daemon/config.js';
import { BASE, CLOUD_CONFIG, render, run } from './support/render.js';

const dir = mkdtempSync('/tmp/fl-bootstrap-');
let n = 0;
function file(text: string, ext: string): string {
  const p = join(dir, `f${n++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

/** cloud-init's view of a user-data: its jinja rendering over this instance data, when it is a template. */
async function cloudInitSees(text: string, metaData: Record<string, string>): Promise<string> {
  if (!text.startsWith('## template: jinja\n')) return text;
  const instance = file(JSON.stringify({ ds: { meta_data: { 'instance-id': 'i-1', ...metaData } }, v1: {} }), 'json');
  const r = await run('cloud-init', ['devel', 'render', '-i', instance, file(text, 'yaml')]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function cloudInitSchema(text: string): Promise<void> {
  const r = await run('cloud-init', ['schema', '--config-file', file(text, 'yaml')]);
  assert.equal(r.code, 0, `cloud-init schema: ${r.stdout}${r.stderr}`);
}

async function ignitionValidate(text: string): Promise<void> {
  const r = await run('ignition-validate', [file(text, 'ign')]);
  assert.equal(r.code, 0, `ignition-validate: ${r.stdout}${r.stderr}`);
}

function coreosCheck(text: string): void {
  assert.deepEqual(formatCheckEntries(checkCoreosCloudConfig(text)), []);
}

interface WrittenFile { path: string; permissions: string; content: string }
function confOf(yamlText: string): { files: WrittenFile[]; conf: string } {
  const doc = parse(yamlText, { version: '1.1' }) as { write_files: WrittenFile[] };
  const conf = doc.write_files.find((f) => f.path === '/etc/flotilla/flotillad.conf')!;
  return { files: doc.write_files, conf: conf.content };
}

function ignitionFiles(text: string): Map<string, { mode: number; content: string }> {
  const doc = JSON.parse(text) as { storage: { files: Array<{ path: string; mode: number; contents: { source: string } }> } };
  return new Map(doc.storage.files.map((f) => [f.path, { mode: f.mode, content: f.contents.source.startsWith('data:,') ? decodeURIComponent(f.contents.source.slice(6)) : f.contents.source }]));
}

test('the example files pass cloud-init schema, ignition-validate and the coreos-cloudinit checker', async () => {
  const ci = readFileSync(`${CLOUD_CONFIG}cloud-init.yaml`, 'utf8');
  const seen = await cloudInitSees(ci, { 'local-ipv4': '10.0.0.21' });
  await cloudInitSchema(seen);
  assert.match(confOf(seen).conf, /^public_ip=10\.0\.0\.21$/m);
  await ignitionValidate(readFileSync(`${CLOUD_CONFIG}flatcar.ign`, 'utf8'));
  const co = readFileSync(`${CLOUD_CONFIG}coreos-cloudinit.yaml`, 'utf8');
  coreosCheck(co);
  assert.match(confOf(substituteCoreosAddresses(co, { private_ipv4: '10.0.0.21' })).conf, /^public_ip=10\.0\.0\.21$/m);
});

test('every addressing mode renders valid bootstraps that give the host the address it names', async () => {
  const modes: Array<[RawInputs, string | undefined]> = [
    [{}, undefined],
    [{ public_ip: 'auto' }, undefined],
    [{ public_ip: '192.0.2.9' }, '192.0.2.9'],
    [{ public_ip: '$private_ipv4' }, '10.1.2.3'],
    [{ public_ip: '$public_ipv4' }, '203.0.113.4'],
  ];
  for (const [extra, address] of modes) {
    const raw = { ...BASE, ...extra };
    const what = JSON.stringify(extra);
    const seen = await cloudInitSees(render('cloud-init', raw), { 'local-ipv4': '10.1.2.3', 'public-ipv4': '203.0.113.4' });
    await cloudInitSchema(seen);
    assert.equal(/^public_ip=(.*)$/m.exec(confOf(seen).conf)?.[1], address, what);
    const ign = render('ignition', raw);
    await ignitionValidate(ign);
    const ignConf = ignitionFiles(ign).get('/etc/flotilla/flotillad.conf')!.content;
    if (extra.public_ip?.toString().startsWith('$')) {
      assert.doesNotMatch(ignConf, /^public_ip=/m, what);
      const wanted = extra.public_ip === '$public_ipv4' ? 'COREOS_CUSTOM_PUBLIC_IPV4' : 'COREOS_CUSTOM_PRIVATE_IPV4';
      assert.match(ign, new RegExp(`FLOTILLA_PUBLIC_IP=\\$\\{${wanted}\\}`), what);
    } else {
      assert.equal(/^public_ip=(.*)$/m.exec(ignConf)?.[1], address, what);
    }
    const co = render('coreos-cloudinit', raw);
    coreosCheck(co);
    const coConf = confOf(substituteCoreosAddresses(co, { private_ipv4: '10.1.2.3', public_ipv4: '203.0.113.4' })).conf;
    assert.equal(/^public_ip=(.*)$/m.exec(coConf)?.[1], address, what);
  }
  // Metadata without the key: public_ip is left empty, and flotillad finds its address.
  const seen = await cloudInitSees(render('cloud-init', { ...BASE, public_ip: '$private_ipv4' }), {});
  await cloudInitSchema(seen);
  assert.match(confOf(seen).conf, /^public_ip=$/m);
});

test('a config holding credentials is written 0600, the client key 0600, others 0644', async () => {
  const tls = {
    etcd_servers: 'https://127.0.0.1:2379',
    etcd_cafile: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
    etcd_certfile: '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n',
    etcd_keyfile: '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n',
  };
  const cases: Array<[RawInputs, string]> = [
    [{}, '0644'],
    [{ etcd_username: 'u', etcd_password: 'p' }, '0600'],
    [tls, '0600'],
  ];
  for (const [extra, confMode] of cases) {
    const raw = { ...BASE, ...extra };
    for (const format of ['cloud-init', 'coreos-cloudinit'] as const) {
      const { files } = confOf(render(format, raw));
      const modes = Object.fromEntries(files.map((f) => [f.path, f.permissions]));
      assert.equal(modes['/etc/flotilla/flotillad.conf'], confMode, `${format} ${JSON.stringify(extra)}`);
      if ('etcd_keyfile' in extra) {
        assert.equal(modes['/etc/flotilla/etcd-client-key.pem'], '0600');
        assert.equal(modes['/etc/flotilla/etcd-ca.pem'], '0644');
      }
    }
    const ign = render('ignition', raw);
    await ignitionValidate(ign);
    const files = ignitionFiles(ign);
    assert.equal(files.get('/etc/flotilla/flotillad.conf')!.mode, Number.parseInt(confMode, 8));
    if ('etcd_keyfile' in extra) {
      assert.equal(files.get('/etc/flotilla/etcd-client-key.pem')!.mode, 0o600);
      assert.equal(files.get('/etc/flotilla/etcd-client-key.pem')!.content, tls.etcd_keyfile);
      assert.match(files.get('/etc/flotilla/flotillad.conf')!.content, /^etcd_keyfile=\/etc\/flotilla\/etcd-client-key\.pem$/m);
    }
  }
});

test('the validators refuse broken files (so the checks above can fail)', async () => {
  const good = render('cloud-init', BASE);
  const unquoted = good.replace('permissions: "0644"', 'permissions: 0644');
  assert.notEqual(unquoted, good);
  const ci = await run('cloud-init', ['schema', '--config-file', file(unquoted, 'yaml')]);
  assert.notEqual(ci.code, 0);
  assert.match(ci.stdout + ci.stderr, /permissions: 420 is not of type 'string'/);

  const ign = JSON.parse(render('ignition', BASE)) as { storage: { files: Array<{ mode: unknown }> } };
  ign.storage.files[0]!.mode = '0644';
  const iv = await run('ignition-validate', [file(JSON.stringify(ign), 'ign')]);
  assert.notEqual(iv.code, 0);

  const co = render('coreos-cloudinit', BASE).replace('permissions: "0644"', 'permissions: 0644');
  assert.match(formatCheckEntries(checkCoreosCloudConfig(co)).join('\n'), /warning: incorrect type for "write_files\[0\]\.permissions" \(want string\)/);
});

test('the flotillad.conf every format writes is one flotillad loads, with the values given', async () => {
  const raw = { ...BASE, metadata: 'region=eu,role=web', agent_ttl: '7s', public_ip: '192.0.2.9', etcd_key_prefix: '/fl/', config: { verbosity: '1', disable_engine: 'true' } };
  const confs = [
    confOf(render('cloud-init', raw)).conf,
    confOf(render('coreos-cloudinit', raw)).conf,
    ignitionFiles(render('ignition', raw)).get('/etc/flotilla/flotillad.conf')!.content,
  ];
  assert.equal(new Set(confs).size, 1, 'the three formats write the same flotillad.conf');
  const c = loadConfig(file(confs[0]!, 'conf'), { FLOTILLA_MACHINE_ID: '0123456789abcdef0123456789abcdef' });
  assert.deepEqual(c.etcdServers, ['http://127.0.0.1:2379']);
  assert.equal(c.etcdKeyPrefix, '/fl/');
  assert.deepEqual(c.metadata, { region: 'eu', role: 'web' });
  assert.equal(c.agentTtlSeconds, 7);
  assert.equal(c.publicIP, '192.0.2.9');
  assert.equal(c.verbosity, 1);
  assert.equal(c.disableEngine, true);
});
