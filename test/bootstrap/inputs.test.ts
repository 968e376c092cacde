import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdsCredentials, resolveInputs, type RawInputs } from '../../src/bootstrap/inputs.js';
import { InvalidInputError } from '../../src/util/errors.js';
import { BASE, render } from './support/render.js';

const PEM = '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n';
const resolve = (raw: RawInputs) => resolveInputs(raw, { readFile: () => { throw Object.assign(new Error('nope'), { code: 'ENOENT' }); }, baseDir: '/in' });

test('bad inputs are refused with one line naming the input and the fix', () => {
  const cases: Array<[RawInputs, RegExp]> = [
    [{ ...BASE, etcd_servers: undefined }, /^etcd_servers is missing: give the etcd URLs/],
    [{ ...BASE, etcd_servers: 'ftp://x' }, /^etcd_servers "ftp:\/\/x" has scheme ftp/],
    [{ ...BASE, release_url: undefined }, /^release_url is missing/],
    [{ ...BASE, release_url: 'file:///x.tgz' }, /^release_url "file:\/\/\/x.tgz" has scheme file/],
    [{ ...BASE, release_sha256: 'abc' }, /^release_sha256 "abc" is not a SHA-256: give the 64 hex digits/],
    [{ ...BASE, etcd_username: 'u' }, /^etcd_username and etcd_password go together/],
    [{ ...BASE, etcd_servers: 'https://e:2379', etcd_certfile: PEM }, /^etcd_certfile and etcd_keyfile go together/],
    [{ ...BASE, etcd_cafile: PEM }, /^TLS material was given but etcd_servers has http:\/\/ URLs/],
    [{ ...BASE, etcd_servers: 'https://e:2379', etcd_cafile: 'ca.pem' }, /^etcd_cafile \/in\/ca\.pem cannot be read \(ENOENT\)/],
    [{ ...BASE, etcd_servers: 'https://e:2379', etcd_cafile: '-----BEGIN CERTIFICATE-----\nno end' }, /^etcd_cafile \(inline\) is not PEM/],
    [{ ...BASE, etcd_password: 'a\nb', etcd_username: 'u' }, /^etcd_password holds a line break/],
    [{ ...BASE, metadata: 'region=eu,junk' }, /^metadata entry "junk" is not key=value/],
    [{ ...BASE, metadata: 'region=eu west' }, /^metadata value "eu west" of region is invalid/],
    [{ ...BASE, agent_ttl: '1s' }, /^agent_ttl "1s" is out of range: give 2 s to 3600 s/],
    [{ ...BASE, agent_ttl: 'soon' }, /^agent_ttl "soon" is invalid/],
    [{ ...BASE, public_ip: 'somewhere' }, /^public_ip "somewhere" is invalid: use auto/],
    [{ ...BASE, afterburn_variable: 'EC2_IP' }, /^afterburn_variable "EC2_IP" is invalid/],
    [{ ...BASE, ssh_authorized_keys: ['hello'] }, /^ssh_authorized_keys entry "hello" is not an OpenSSH public key/],
    [{ ...BASE, config: { etcd_servers: 'x' } }, /^config key "etcd_servers" is an input of its own: give it as etcd_servers/],
    [{ ...BASE, config: { 'Bad-Key': '1' } }, /^config key "Bad-Key" is invalid/],
    [{ ...BASE, frobnicate: 1 } as RawInputs, /^unknown input "frobnicate": known inputs are etcd_servers, /],
    [{ ...BASE, etcd_servers: { a: 1 } }, /^etcd_servers must be a single value, not a map/],
  ];
  for (const [raw, pattern] of cases) {
    assert.throws(() => resolve(raw), (err: unknown) => err instanceof InvalidInputError && pattern.test(err.message) && !err.message.includes('\n'), String(pattern));
  }
});

test('values are normalised: lists or comma strings, metadata maps, upper-case checksums', () => {
  const i = resolve({ ...BASE, etcd_servers: ['http://a:2379', ' http://b:2379 '], metadata: { region: 'eu', role: 'web' }, release_sha256: 'AB'.repeat(32), agent_ttl: '1m30s' });
  assert.deepEqual(i.etcdServers, ['http://a:2379', 'http://b:2379']);
  assert.equal(i.metadata, 'region=eu,role=web');
  assert.equal(i.releaseSha256, 'ab'.repeat(32));
  assert.equal(i.agentTtl, '1m30s');
  assert.deepEqual(i.publicIp, { kind: 'auto' });
  assert.equal(holdsCredentials(i), false);
  assert.equal(holdsCredentials(resolve({ ...BASE, etcd_username: 'u', etcd_password: 'p' })), true);
});

test('text that a format would rewrite on the host is refused for that format only', () => {
  const jinja = { ...BASE, public_ip: '$private_ipv4', etcd_username: 'u', etcd_password: 'a{{b' };
  assert.throws(() => render('cloud-init', jinja), /etcd_password holds "\{\{", which cloud-init's jinja would expand: change that value to render a cloud-init jinja template$/);
  assert.ok(render('cloud-init', { ...jinja, public_ip: 'auto' }).includes('etcd_password=a{{b'));
  assert.ok(render('ignition', jinja).length > 0);
  const dollar = { ...BASE, etcd_username: 'u', etcd_password: 'x$public_ipv4' };
  assert.throws(() => render('coreos-cloudinit', dollar), /etcd_password holds "\$public_ipv4", which coreos-cloudinit would replace with an address/);
  assert.ok(render('cloud-init', dollar).includes('etcd_password=x$public_ipv4'));
});
