/**
 * The listeners on their own (no cluster): socket mode and stale sockets,
 * TLS with required client certificates, and the request plumbing (error
 * body, 413 without reading the rest, 503 from the client library).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { requestListener } from '../../src/api/http.js';
import { closeListening, listenSocket, listenTcp, type Listening } from '../../src/api/listeners.js';
import { MAX_BODY_BYTES, readJsonBody } from '../../src/api/body.js';
import { Router, json } from '../../src/api/router.js';
import { makeDevTls, type DevTls } from '../../src/dev/tls.js';
import { StoreUnreachableError } from '../../src/client/store-errors.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { apiError, ask } from './support/http.js';

let dir: string;
let tls: DevTls;
const open: Listening[] = [];

const router = new Router()
  .add('/echo', { PUT: json(async (r) => ({ status: 200, body: await readJsonBody(r.raw) })) })
  .add('/down', { GET: json(async () => { throw new StoreUnreachableError(['http://127.0.0.1:1'], 'connect ECONNREFUSED 127.0.0.1:1'); }) })
  .add('/bug', { GET: json(async () => { throw new Error('secret detail'); }) });
const handler = requestListener(router, silentLogger());

before(async () => {
  dir = await mkdtemp('/tmp/fl-api-listen-');
  tls = await makeDevTls(join(dir, 'tls'));
});

after(async () => {
  await Promise.all(open.map(closeListening));
});

async function socketAt(name: string): Promise<Listening> {
  const l = await listenSocket(join(dir, name), undefined, handler);
  open.push(l);
  return l;
}

test('the socket is mode 0660 and answers with the error body and the Server header', async () => {
  const l = await socketAt('a.sock');
  const st = await stat(l.socket!);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  const r = await ask({ socket: l.socket! }, '/nowhere');
  assert.equal(r.status, 404);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.match(String(r.headers.server), /^flotillad\//);
  assert.deepEqual(r.json, apiError(404, 'no such resource: /nowhere'));
  const slashes = await ask({ socket: l.socket! }, '//echo?x=1');
  assert.deepEqual(slashes.json, apiError(404, 'no such resource: //echo'));
  const m = await ask({ socket: l.socket! }, '/echo', { method: 'GET' });
  assert.deepEqual([m.status, m.headers.allow, m.json], [405, 'PUT', apiError(405, 'only PUT supported against this resource')]);
});

test('a live socket is refused, a stale one replaced, a file that is no socket left alone', async () => {
  const live = await socketAt('live.sock');
  await assert.rejects(listenSocket(live.socket!, undefined, handler), /api_socket .*live\.sock is in use by a running process .*set another api_socket/);
  // A process killed while listening leaves its socket file behind.
  const stale = join(dir, 'stale.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up')); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok((await stat(stale)).isSocket());
  const l = await listenSocket(stale, undefined, handler);
  open.push(l);
  assert.equal((await ask({ socket: stale }, '/nowhere')).status, 404);
  const plain = join(dir, 'plain');
  await writeFile(plain, 'keep me\n');
  await assert.rejects(listenSocket(plain, undefined, handler), /api_socket .*plain exists and is not a socket: remove it or set another api_socket/);
  assert.equal((await stat(plain)).size, 8);
  await assert.rejects(listenSocket(join(dir, 'no', 'such', 'dir.sock'), undefined, handler), /api_socket .*dir\.sock: directory .*\/no\/such does not exist: create it or set another api_socket/);
});

test('api_socket_group: the socket belongs to that group', { skip: process.getuid?.() !== 0 && 'needs root to give a file away' }, async () => {
  const l = await listenSocket(join(dir, 'g.sock'), 65534, handler);
  open.push(l);
  const st = await stat(l.socket!);
  assert.deepEqual([st.gid, st.mode & 0o777], [65534, 0o660]);
});

test('closing removes the socket', async () => {
  const l = await listenSocket(join(dir, 'gone.sock'), undefined, handler);
  await closeListening(l);
  await assert.rejects(stat(join(dir, 'gone.sock')), /ENOENT/);
});

test('bodies: 413 beyond 1 MiB (declared or streamed), 415, 400 for bad JSON', async () => {
  const s = { socket: (await socketAt('b.sock')).socket! };
  const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
  const r = await ask(s, '/echo', { method: 'PUT', raw: big, headers: { 'Content-Type': 'application/json' } });
  assert.deepEqual([r.status, r.json], [413, apiError(413, 'request body exceeds 1024 KiB: send a smaller body (unit files are far smaller)')]);
  // Without a Content-Length (chunked), counted as it arrives; the connection stays usable.
  const chunked = await ask(s, '/echo', { method: 'PUT', raw: Buffer.alloc(3 * MAX_BODY_BYTES, 0x20), headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } });
  assert.equal(chunked.status, 413);
  const ok = await ask(s, '/echo', { method: 'PUT', body: { a: [1, 2] } });
  assert.deepEqual([ok.status, ok.json], [200, { a: [1, 2] }]);
  const none = await ask(s, '/echo', { method: 'PUT', raw: '{}' });
  assert.deepEqual([none.status, none.json], [415, apiError(415, 'expected 1 Content-Type header, got 0: send Content-Type: application/json')]);
  const text = await ask(s, '/echo', { method: 'PUT', raw: '{}', headers: { 'Content-Type': 'text/plain' } });
  assert.deepEqual([text.status, text.json], [415, apiError(415, 'Content-Type "text/plain" is not accepted: send Content-Type: application/json')]);
  const charset = await ask(s, '/echo', { method: 'PUT', raw: '{}', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  assert.equal(charset.status, 200);
  const bad = await ask(s, '/echo', { method: 'PUT', raw: '{"a":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: { message: string } }).error.message, /^unable to decode body: /);
  const deep = await ask(s, '/echo', { method: 'PUT', raw: `${'['.repeat(400_000)}${']'.repeat(400_000)}`, headers: { 'Content-Type': 'application/json' } });
  assert.deepEqual([deep.status, deep.json], [400, apiError(400, 'request body nests deeper than 16 levels: no API body needs that')]);
  // Brackets inside strings do not count.
  const quoted = await ask(s, '/echo', { method: 'PUT', body: { a: '[[[[[[[[[[[[[[[[[[[[[[[["\\' } });
  assert.equal(quoted.status, 200);
  const empty = await ask(s, '/echo', { method: 'PUT', raw: '', headers: { 'Content-Type': 'application/json' } });
  assert.deepEqual([empty.status, empty.json], [400, apiError(400, 'request body is empty: send a JSON document')]);
});

test('the store unreachable is 503 with Retry-After; an internal error is 500 without detail', async () => {
  const s = { socket: (await socketAt('c.sock')).socket! };
  const down = await ask(s, '/down');
  assert.deepEqual([down.status, down.headers['retry-after'], down.json], [503, '1', apiError(503, 'cluster store unreachable at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1')]);
  const bug = await ask(s, '/bug');
  assert.deepEqual([bug.status, bug.json], [500, { error: { code: 500 } }]);
});

test('TCP with TLS: a client without a certificate of the CA is refused', async () => {
  const l = await listenTcp({ host: '127.0.0.1', port: 0, tls: { ca: await read(tls.ca.cert), cert: await read(tls.server.cert), key: await read(tls.server.key) } }, handler);
  open.push(l);
  const port = (l.server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  const ca = await read(tls.ca.cert);
  const r = await ask({ url, tls: { ca, cert: await read(tls.client.cert), key: await read(tls.client.key) } }, '/nowhere');
  assert.equal(r.status, 404);
  await assert.rejects(ask({ url, tls: { ca } }, '/nowhere'), /certificate|handshake|socket hang up|ECONNRESET/i);
  // Another CA's certificate is no better.
  const other = await makeDevTls(join(dir, 'other'));
  await assert.rejects(ask({ url, tls: { ca, cert: await read(other.client.cert), key: await read(other.client.key) } }, '/nowhere'), /certificate|alert|socket hang up|ECONNRESET/i);
});

test('a busy TCP port is one line', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  await assert.rejects(listenTcp({ host: '127.0.0.1', port }, handler), new RegExp(`api_address 127.0.0.1:${port} cannot be listened on \\(EADDRINUSE\\)`));
  await waitFor('blocker closed', () => new Promise<true>((resolve) => blocker.close(() => resolve(true))), { timeoutMs: 5000 });
});

async function read(path: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path);
}
