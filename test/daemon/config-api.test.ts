import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_API_SOCKET, isLoopback, parseApiConfig, type ApiRaw } from '../../src/daemon/config-api.js';
import { InvalidInputError } from '../../src/util/errors.js';
import { makeDevTls } from '../../src/dev/tls.js';

const dir = mkdtempSync('/tmp/fl-apicfg-');
const groups = join(dir, 'group');
writeFileSync(groups, 'root:x:0:\nflotilla:x:4242:alice,bob\n');

function refuses(raw: ApiRaw, pattern: RegExp): void {
  assert.throws(() => parseApiConfig(raw, groups), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

test('defaults: the socket at /var/run/flotilla.sock, no TCP, pages of 100', () => {
  assert.deepEqual(parseApiConfig({}, groups), { socket: DEFAULT_API_SOCKET, tokenLimit: 100 });
  assert.deepEqual(parseApiConfig({ api_socket: '' }, groups), { tokenLimit: 100 });
  assert.equal(parseApiConfig({ api_socket: '/run/x//api.sock/' }, groups).socket, '/run/x/api.sock');
});

test('the socket group is a name from the group file or a gid', () => {
  assert.equal(parseApiConfig({ api_socket_group: 'flotilla' }, groups).socketGid, 4242);
  assert.equal(parseApiConfig({ api_socket_group: '7' }, groups).socketGid, 7);
  refuses({ api_socket_group: 'nobodyhere' }, /api_socket_group "nobodyhere" is not a group in .*groupadd nobodyhere/);
  refuses({ api_socket_group: 'a b' }, /is not a group name/);
  refuses({ api_socket: '', api_socket_group: 'flotilla' }, /api_socket is empty/);
});

test('api_address: loopback may go without TLS, anything else needs client certificates', () => {
  assert.deepEqual(parseApiConfig({ api_address: '127.0.0.1:8079' }, groups).tcp, { host: '127.0.0.1', port: 8079 });
  assert.deepEqual(parseApiConfig({ api_address: '[::1]:8079' }, groups).tcp, { host: '::1', port: 8079 });
  assert.deepEqual(parseApiConfig({ api_address: 'localhost:1' }, groups).tcp, { host: 'localhost', port: 1 });
  refuses({ api_address: '0.0.0.0:8079' }, /^api_address "0.0.0.0:8079" is not a loopback address .*set api_certfile, api_keyfile and api_cafile/);
  refuses({ api_address: '10.0.0.5' }, /api_address "10.0.0.5" is invalid: give HOST:PORT/);
  refuses({ api_address: '10.0.0.5:70000' }, /is invalid/);
  refuses({ api_address: 'example.com:80' }, /does not name an IP address/);
  refuses({ api_address: '[10.0.0.1]:80' }, /brackets are for IPv6/);
  assert.ok(isLoopback('127.9.9.9') && !isLoopback('128.0.0.1') && !isLoopback('::'));
});

test('TLS files: all three or none, readable, certificates and a matching key', async () => {
  const t = await makeDevTls(join(dir, 'tls'));
  const c = { caFile: t.ca.cert, serverCertFile: t.server.cert, serverKeyFile: t.server.key, clientKeyFile: t.client.key };
  const tcp = parseApiConfig({ api_address: '10.0.0.5:8079', api_cafile: c.caFile, api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, groups).tcp;
  assert.equal(tcp?.host, '10.0.0.5');
  assert.ok(tcp?.tls?.ca.toString().includes('BEGIN CERTIFICATE'));
  refuses({ api_address: '10.0.0.5:1', api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, /needs api_certfile, api_keyfile and api_cafile together .*set api_cafile$/);
  refuses({ api_cafile: c.caFile, api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, /api_address is empty/);
  refuses({ api_address: '10.0.0.5:1', api_cafile: join(dir, 'nope.pem'), api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, /api_cafile .*nope.pem does not exist/);
  refuses({ api_address: '10.0.0.5:1', api_cafile: c.serverKeyFile, api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, /api_cafile .* holds no PEM certificate/);
  refuses({ api_address: '10.0.0.5:1', api_cafile: c.caFile, api_certfile: c.serverCertFile, api_keyfile: c.clientKeyFile }, /api_keyfile .* is not a usable private key of api_certfile/);
  refuses({ api_address: '10.0.0.5:1', api_cafile: 'rel.pem', api_certfile: c.serverCertFile, api_keyfile: c.serverKeyFile }, /api_cafile "rel.pem" is a relative path/);
});

test('token_limit: 1 to 65535 (a page token holds it in 16 bits)', () => {
  assert.equal(parseApiConfig({ token_limit: '19' }, groups).tokenLimit, 19);
  refuses({ token_limit: '0' }, /token_limit "0" is invalid: give a whole number from 1 to 65535/);
  refuses({ token_limit: '65536' }, /token_limit/);
});
