import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYS, loadConfig, readConfig } from '../../src/daemon/config.js';
import { parseConfigText } from '../../src/daemon/config-file.js';
import { parseMetadata, parseSeconds } from '../../src/daemon/config-values.js';
import { InvalidInputError } from '../../src/util/errors.js';

const dir = mkdtempSync('/tmp/fl-cfg-');
const MID = '0123456789abcdef0123456789abcdef';

function file(text: string, mode = 0o600): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

/** A config with the machine id set, plus `lines`. */
function conf(lines: string): string {
  return file(`machine_id=${MID}\n${lines}`);
}

function refuses(text: string, pattern: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => loadConfig(conf(text), env),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError, `not an InvalidInputError: ${String(err)}`);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), `more than one line: ${err.message}`);
      return true;
    },
  );
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
  assert.equal(c.etcdSecurity.tls, undefined);
  assert.equal(c.etcdSecurity.auth, undefined);
  const user = loadConfig(file(`machine_id=${MID}\nssh_port=2222\nsystemd_scope=user\n`), {});
  assert.equal(user.sshPort, 2222);
  assert.equal(user.systemdScope, 'user');
});

test('bad values are refused with a one-line message naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    [`agent_ttl=1\n`, /agent_ttl "1"/],
    [`agent_ttl=soon\n`, /agent_ttl "soon"/],
    [`etcd_servers=ftp://x\n`, /etcd_servers "ftp:\/\/x"/],
    [`frobnicate=1\n`, /unknown key "frobnicate"/],
    [`disable_engine=maybe\n`, /disable_engine "maybe"/],
    [`log_format=xml\n`, /log_format "xml"/],
    [`ssh_port=22.5\n`, /ssh_port "22.5".*TCP port/],
    [`systemd_scope=session\n`, /systemd_scope "session".*use system .* or user/],
    [`verbosity=1.5\n`, /verbosity "1.5"/],
  ];
  for (const [text, pattern] of cases) refuses(text, pattern);
  assert.throws(() => loadConfig(file('machine_id=xyz\n'), {}), /machine_id "xyz"/);
  assert.throws(() => loadConfig(join(dir, 'missing.conf'), {}), /missing\.conf cannot be read/);
});

// Issue 8: the npm ini parser cut values at # and ; (metadata=region=us#east became region=us).
test("a value holding # or ; is kept when quoted and refused otherwise, never cut", () => {
  refuses('metadata=region=us#east\n', /line 2: the value of metadata "region=us#east" holds "#": quote the whole value \(metadata="region=us#east"\)/);
  refuses('metadata=region=us;east\n', /holds ";"/);
  refuses('agent_ttl=30s # thirty seconds\n', /agent_ttl .* holds "#"/);
  assert.deepEqual(loadConfig(conf('metadata="region=us#east,role=web;db"\n'), {}).metadata, { region: 'us#east', role: 'web;db' });
  assert.deepEqual(loadConfig(conf("metadata='region=us#east'\n"), {}).metadata, { region: 'us#east' });
  // Whole-line comments, blank lines, CRLF and blanks around "=" are fine.
  const c = loadConfig(file(`# a comment\r\n; another\r\n\r\n  machine_id = ${MID}  \r\nmetadata = a=1\r\n`), {});
  assert.deepEqual(c.metadata, { a: '1' });
});

test('the line reader refuses what it cannot read faithfully', () => {
  assert.throws(() => parseConfigText('[fleet]\nx=1\n', 'f'), /line 1: sections like "\[fleet\]" are not supported/);
  assert.throws(() => parseConfigText('metadata\n', 'f'), /line 1: "metadata" is not a key=value line/);
  assert.throws(() => parseConfigText('a=1\nb=2\na=3\n', 'f'), /line 3: a is set twice \(also on line 1\)/);
  assert.throws(() => parseConfigText('a="open\n', 'f'), /opens a " quote it does not close/);
  assert.deepEqual(parseConfigText('A_B = "x = y"\n', 'f'), [{ key: 'a_b', value: 'x = y', line: 1 }]);
});

// Issue 8: public_ip, units_directory and host_root were taken as given.
test('public_ip must be an IP literal', () => {
  refuses('public_ip=my-host\n', /public_ip "my-host" is not an IP address: give an IPv4 or IPv6 address/);
  refuses('public_ip=10.0.0.300\n', /public_ip "10\.0\.0\.300" is not an IP address/);
  refuses('public_ip=[fd00::5]\n', /write an IPv6 address without brackets/);
  assert.equal(loadConfig(conf('public_ip=fd00::5\n'), {}).publicIP, 'fd00::5');
  assert.equal(loadConfig(conf('public_ip=\n'), {}).publicIP, '');
});

test('units_directory must be absolute and not a directory systemd loads units from', () => {
  refuses('units_directory=units\n', /units_directory "units" is a relative path: give an absolute path such as \/run\/flotilla\/units/);
  refuses('units_directory=/\n', /units_directory "\/" is the root directory: Flotilla adopts and removes unit files there/);
  refuses('units_directory=/etc/systemd/system/\n', /is a directory systemd loads units from/);
  refuses('units_directory=/run/flotilla/../systemd/system\n', /is a directory systemd loads units from/);
  refuses('units_directory=/h/.config/systemd/user\n', /systemd loads units from/, { HOME: '/h' });
  assert.equal(loadConfig(conf('units_directory=/run/fleet/units/\n'), {}).unitsDirectory, '/run/fleet/units');
  assert.equal(loadConfig(conf('units_directory=/run//flotilla/./units\n'), {}).unitsDirectory, '/run/flotilla/units');
});

test('host_root must be an existing absolute directory', () => {
  refuses('host_root=root\n', /host_root "root" is a relative path/);
  refuses(`host_root=${dir}/nope\n`, /host_root ".*\/nope" is not an existing directory/);
  mkdirSync(join(dir, 'root'), { recursive: true });
  assert.equal(loadConfig(conf(`host_root=${dir}/root/\n`), {}).hostRoot, `${dir}/root`);
});

test("fleet's value syntaxes: Go durations, float seconds, bracketed etcd_servers", () => {
  assert.equal(loadConfig(conf('agent_ttl=30s\n'), {}).agentTtlSeconds, 30);
  assert.equal(loadConfig(conf('agent_ttl=1m30s\n'), {}).agentTtlSeconds, 90);
  assert.equal(loadConfig(conf('agent_ttl=2000ms\n'), {}).agentTtlSeconds, 2);
  assert.equal(loadConfig(conf('agent_ttl=15\n'), {}).agentTtlSeconds, 15);
  refuses('agent_ttl=2500ms\n', /agent_ttl "2500ms" is not a whole number of seconds/);
  assert.equal(loadConfig(conf('etcd_request_timeout=1.0\n'), {}).etcdRequestTimeoutMs, 1000);
  assert.equal(loadConfig(conf('etcd_request_timeout=0.5\n'), {}).etcdRequestTimeoutMs, 500);
  assert.equal(loadConfig(conf('etcd_request_timeout=1.5s\n'), {}).etcdRequestTimeoutMs, 1500);
  assert.equal(parseSeconds('x', '1h', 0, 1e6), 3600);
  assert.equal(parseSeconds('x', '.5', 0, 1e6), 0.5);
  assert.equal(parseSeconds('x', '300us', 0, 1e6), 0.0003);
  assert.throws(() => parseSeconds('x', '-1s', 0, 1e6), /x "-1s" is invalid/);
  assert.throws(() => parseSeconds('x', '1d', 0, 1e6), /x "1d" is invalid/);
  const c = loadConfig(conf('etcd_servers=["http://127.0.0.1:1", "http://127.0.0.1:2"]\n'), {});
  assert.deepEqual(c.etcdServers, ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  assert.equal(loadConfig(conf('systemd_user=true\n'), {}).systemdScope, 'user');
  refuses('systemd_user=true\nsystemd_scope=system\n', /systemd_user=true contradicts systemd_scope=system/);
});

test('metadata follows fleet: blanks trimmed, quotes allowed, entries without = skipped with a warning', () => {
  assert.deepEqual(parseMetadata('metadata', 'a=1,b=2,a=3').metadata, { a: '3', b: '2' });
  assert.deepEqual(parseMetadata('metadata', '').metadata, {});
  assert.deepEqual(parseMetadata('metadata', ' region = us east , role="web server",').metadata, { region: 'us east', role: 'web server' });
  const r = readConfig(conf('metadata=a=1,junk,b=\n'), {});
  assert.deepEqual(r.config.metadata, { a: '1' });
  assert.ok(r.warnings.some((w) => /metadata entry "junk" has no "=": ignored/.test(w)), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => /metadata entry "b=" has no value: ignored/.test(w)), r.warnings.join('\n'));
  refuses('metadata=my key=1\n', /metadata entry "my key=1": invalid metadata key "my key"/);
  refuses('metadata=k=a"b\n', /metadata entry "k=a\\"b": metadata value/);
});

test("fleet's options that no longer apply are accepted with a warning naming why; unknown keys are refused", () => {
  const r = readConfig(conf('verify_units=true\nauthorized_keys_file=/x\nenable_grpc=false\ndisable_watches=true\ntoken_limit=100\nengine_reconcile_interval=2.0\n'), {});
  const says = (key: string, why: RegExp): void => {
    assert.ok(r.warnings.some((w) => w.startsWith(`${key} is accepted but ignored: `) && why.test(w)), `${key}: ${r.warnings.join('\n')}`);
  };
  says('verify_units', /fleet had already dropped it/);
  says('authorized_keys_file', /fleet had already dropped it/);
  says('enable_grpc', /always talk through etcd/);
  says('disable_watches', /watches are how Flotilla follows etcd/);
  // token_limit sizes /fleet/v1's pages again (src/api), as it did in fleet.
  assert.ok(!r.warnings.some((w) => w.startsWith('token_limit')), r.warnings.join('\n'));
  assert.equal(r.config.api.tokenLimit, 100);
  says('engine_reconcile_interval', /acts on every change/);
  refuses('verify_unitz=true\n', /line 2: unknown key "verify_unitz": known keys are etcd_servers, /);
});

test('environment: FLOTILLA_<KEY> overrides the file; FLEET_<KEY> and unknown FLOTILLA_ names are named, not read', () => {
  const r = readConfig(conf('metadata=a=1\n'), { FLOTILLA_METADATA: 'b=2', FLEET_METADATA: 'c=3', FLOTILLA_METADTA: 'x=1', FLOTILLA_DEBUG: '1' });
  assert.deepEqual(r.config.metadata, { b: '2' });
  assert.ok(r.warnings.includes('FLEET_METADATA is set but not read: Flotilla reads FLOTILLA_METADATA'), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => w.startsWith('FLOTILLA_METADTA is set but is no setting of flotillad')), r.warnings.join('\n'));
  assert.ok(!r.warnings.some((w) => w.includes('FLOTILLA_DEBUG')));
});

test('secured etcd settings: pairs checked, files read, https required, loose permissions warned', () => {
  const pem = join(dir, 'not-a-cert.pem');
  writeFileSync(pem, 'hello\n');
  refuses('etcd_certfile=/x/c.pem\n', /etcd_certfile is set without etcd_keyfile: give both/);
  refuses('etcd_username=u\n', /etcd_username is set without etcd_password: give both/);
  refuses('etcd_password=p\n', /etcd_password is set without etcd_username/);
  refuses('etcd_cafile=ca.pem\netcd_servers=https://127.0.0.1:1\n', /etcd_cafile "ca\.pem" is a relative path/);
  refuses(`etcd_cafile=${dir}/none.pem\netcd_servers=https://127.0.0.1:1\n`, /etcd_cafile .*none\.pem does not exist: give a readable PEM file/);
  refuses(`etcd_cafile=${pem}\netcd_servers=https://127.0.0.1:1\n`, /etcd_cafile .*not-a-cert\.pem holds no PEM certificate/);
  refuses(`etcd_cafile=${pem}\n`, /etcd_cafile is set but etcd_servers has http:\/\/ URLs .*use https:\/\//);
  refuses('etcd_servers=http://127.0.0.1:1,https://127.0.0.1:2\n', /etcd_servers mixes http:\/\/ and https:\/\//);
  const plain = readConfig(conf('etcd_username=u\netcd_password=p w\n'), {});
  assert.deepEqual(plain.config.etcdSecurity.auth, { username: 'u', password: 'p w' });
  assert.ok(plain.warnings.some((w) => /etcd_password is sent to etcd over plain http/.test(w)), plain.warnings.join('\n'));
  const loose = file(`machine_id=${MID}\netcd_username=u\netcd_password=p\netcd_servers=https://127.0.0.1:1\n`, 0o644);
  const r = readConfig(loose, {});
  assert.ok(r.warnings.some((w) => w === `${loose} holds etcd_password but is readable by other users (mode 0644): chmod 600 ${loose}`), r.warnings.join('\n'));
  assert.ok(!readConfig(conf('etcd_username=u\netcd_password=p\netcd_servers=https://127.0.0.1:1\n'), {}).warnings.some((w) => w.includes('readable by other users')));
});

test("the README's configuration table lists every key, and marks fleet's", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### Secured etcd'));
  const rowsOf = new Map<string, string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    for (const m of (line.split('|')[1] ?? '').matchAll(/`([a-z_]+)`/g)) rowsOf.set(m[1] as string, line);
  }
  for (const [key, spec] of Object.entries(KEYS) as Array<[string, { fleet?: true }]>) {
    const row = rowsOf.get(key);
    assert.ok(row, `${key} is missing from the README's configuration table`);
    assert.equal((row.split('|')[2] ?? '').trim() === 'yes', spec.fleet === true, `${key}: the README's fleet column is wrong`);
  }
});
