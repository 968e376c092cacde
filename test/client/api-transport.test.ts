/** The API driver's transport on its own: endpoints, and what it says when the other end is not flotillad. */
import { exitCodeOf } from '../../src/util/exit-codes.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiTransport, parseApiEndpoint } from '../../src/client/api-transport.js';
import { ApiClusterClient } from '../../src/client/api-client.js';
import { ExitCode, FlotillaError, InvalidInputError, StoreUnavailableError, UsageError } from '../../src/util/errors.js';

let plain: Server;
let fake: Server;
let plainUrl: string;
let fakeUrl: string;

function listen(s: Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)));
}

before(async () => {
  // etcd answers unknown paths with 404 text/plain and no Server header.
  plain = createServer((_req, res) => res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n'));
  fake = createServer((req, res) => {
    res.setHeader('Server', 'flotillad/test');
    const send = (status: number, body: unknown): void => void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/flotilla/v1/units/missing.service') send(404, { error: { code: 404, message: 'unit does not exist' } });
    else if (req.url === '/flotilla/v1/units') send(503, { error: { code: 503, message: 'cluster store unreachable at http://127.0.0.1:1: connect ECONNREFUSED' } });
    else if (req.url?.startsWith('/flotilla/v1/units/')) send(400, { error: { code: 400, message: 'invalid unit name "x"' } });
    else send(500, { error: { code: 500 } });
  });
  [plainUrl, fakeUrl] = await Promise.all([listen(plain), listen(fake)]);
});

after(() => {
  plain.close();
  fake.close();
});

test('endpoints: unix:///path or one http(s)://host:port', () => {
  assert.deepEqual(parseApiEndpoint('unix:///run/f.sock', '--endpoint'), { kind: 'unix', socket: '/run/f.sock', text: 'unix:///run/f.sock' });
  assert.deepEqual(parseApiEndpoint('https://[::1]:8079', '--endpoint'), { kind: 'https', host: '::1', port: 8079, text: 'https://[::1]:8079' });
  assert.deepEqual(parseApiEndpoint('http://h', '--endpoint'), { kind: 'http', host: 'h', port: 80, text: 'http://h' });
  for (const bad of ['unix://rel.sock', 'http://a:1,http://b:2', 'ftp://h:1', 'http://h:1/x', 'nonsense']) {
    assert.throws(() => parseApiEndpoint(bad, 'FLOTCTL_ENDPOINT'), (e: unknown) => e instanceof UsageError && e.message.startsWith('invalid FLOTCTL_ENDPOINT') && e.message.includes('--driver etcd'), bad);
  }
});

test('something that is not flotillad: one line naming --driver etcd', async () => {
  const t = new ApiTransport(parseApiEndpoint(plainUrl, '--endpoint'), 2000, undefined);
  await assert.rejects(t.request('GET', '/flotilla/v1/units'), (e: unknown) => {
    assert.ok(e instanceof FlotillaError);
    assert.equal(e.message, `${plainUrl} is not a Flotilla API (HTTP 404): to talk to etcd directly use --driver etcd`);
    return true;
  });
  t.close();
});

test('nothing listening: exit 3 naming the socket', async () => {
  const dir = await mkdtemp('/tmp/fl-apit-');
  const c = new ApiClusterClient({ endpoint: parseApiEndpoint(`unix://${join(dir, 'none.sock')}`, '--endpoint'), requestTimeoutMs: 2000 });
  await assert.rejects(c.listUnits(), (e: unknown) => e instanceof StoreUnavailableError && exitCodeOf(e) === ExitCode.unavailable && /^flotillad API unreachable at unix:\/\/.*none\.sock: no socket at /.test(e.message));
  await c.close();
});

test("flotillad's answers: 404 is none, 400 bad input, 503 unreachable, 500 without detail", async () => {
  const c = new ApiClusterClient({ endpoint: parseApiEndpoint(fakeUrl, '--endpoint'), requestTimeoutMs: 2000 });
  assert.equal(await c.getUnit('missing.service'), undefined);
  assert.equal(await c.destroyUnit('missing.service'), false);
  await assert.rejects(c.getUnit('x'), (e: unknown) => e instanceof InvalidInputError && e.message === 'invalid unit name "x"');
  await assert.rejects(c.listUnits(), (e: unknown) => e instanceof StoreUnavailableError && e.message === `flotillad at ${fakeUrl}: cluster store unreachable at http://127.0.0.1:1: connect ECONNREFUSED`);
  await assert.rejects(c.listMachines(), (e: unknown) => e instanceof FlotillaError && /failed the request \(HTTP 500\): see its log/.test(e.message));
  // Checked here first: the same refusal as the etcd driver's, with nothing sent.
  await assert.rejects(c.updateMachineMetadata('m', {}), /no metadata change given/);
  await c.close();
});

test('TLS files with a plain http endpoint are refused; a unix socket ignores them', () => {
  new ApiTransport(parseApiEndpoint('unix:///run/x.sock', '--endpoint'), 1000, { caFile: '/x.pem', names: { caFile: '--ca-file', certFile: '--cert-file', keyFile: '--key-file' } }).close();
  assert.throws(() => new ApiTransport(parseApiEndpoint(plainUrl, '--endpoint'), 1000, { caFile: '/x.pem', names: { caFile: '--ca-file', certFile: '--cert-file', keyFile: '--key-file' } }), /--ca-file is set but .* is not https:\/\//);
});

test('https: the same --ca-file/--cert-file/--key-file authenticate the driver to a TLS listener', async () => {
  const { makeDevTls } = await import('../../src/dev/tls.js');
  const { listenTcp, closeListening } = await import('../../src/api/listeners.js');
  const { requestListener } = await import('../../src/api/http.js');
  const { Router, json } = await import('../../src/api/router.js');
  const { silentLogger } = await import('../../src/util/log.js');
  const { readFile } = await import('node:fs/promises');
  const t = await makeDevTls(await mkdtemp('/tmp/fl-apit-tls-'));
  const router = new Router().add('/flotilla/v1/info', { GET: json(async () => ({ status: 200, body: { api: 'flotilla' } })) });
  const l = await listenTcp({ host: '127.0.0.1', port: 0, tls: { ca: await readFile(t.ca.cert), cert: await readFile(t.server.cert), key: await readFile(t.server.key) } }, requestListener(router, silentLogger()));
  const endpoint = parseApiEndpoint(`https://127.0.0.1:${(l.server.address() as { port: number }).port}`, '--endpoint');
  const names = { caFile: '--ca-file', certFile: '--cert-file', keyFile: '--key-file' };
  try {
    const good = new ApiTransport(endpoint, 2000, { caFile: t.ca.cert, certFile: t.client.cert, keyFile: t.client.key, names });
    assert.deepEqual(await good.request('GET', '/flotilla/v1/info'), { status: 200, body: { api: 'flotilla' } });
    good.close();
    const noCert = new ApiTransport(endpoint, 2000, { caFile: t.ca.cert, names });
    await assert.rejects(noCert.request('GET', '/flotilla/v1/info'), (e: unknown) => e instanceof FlotillaError && exitCodeOf(e) === ExitCode.failure && e.message === `${endpoint.text} requires a client certificate: give --cert-file and --key-file`);
    noCert.close();
    const noCa = new ApiTransport(endpoint, 2000, { certFile: t.client.cert, keyFile: t.client.key, names });
    await assert.rejects(noCa.request('GET', '/flotilla/v1/info'), (e: unknown) => e instanceof FlotillaError && /^the certificate of https:.* is not trusted \(.*\): give --ca-file with the CA that signed it$/.test(e.message));
    noCa.close();
    const other = await makeDevTls(await mkdtemp('/tmp/fl-apit-tls2-'));
    const wrong = new ApiTransport(endpoint, 2000, { caFile: t.ca.cert, certFile: other.client.cert, keyFile: other.client.key, names });
    await assert.rejects(wrong.request('GET', '/flotilla/v1/info'), (e: unknown) => e instanceof FlotillaError && /refuse[sd]? the client certificate of --cert-file.* signed by the CA in its api_cafile/.test(e.message));
    wrong.close();
    assert.throws(() => new ApiTransport(endpoint, 2000, { caFile: t.ca.cert, certFile: t.client.cert, names }), /--cert-file and --key-file go together/);
  } finally {
    await closeListening(l);
  }
});

test('watchUnits follows the event stream: live after its start line, watched units only, no polling, resumes from the last index, 410 re-reads all', async () => {
  const { waitFor } = await import('../../src/util/deadline.js');
  const asked: string[] = [];
  const open: Array<(line: unknown) => void> = [];
  const cut: Array<() => void> = [];
  let gone = false;
  const server = createServer((req, res) => {
    res.setHeader('Server', 'flotillad/test');
    asked.push(req.url ?? '');
    const index = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('index') ?? 0);
    if (gone) {
      gone = false;
      return void res.writeHead(410, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 410, message: 'compacted', index: 90 } }));
    }
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.write(`${JSON.stringify({ Index: index || 10 })}\n`);
    open.push((line) => res.write(`${JSON.stringify(line)}\n`));
    cut.push(() => res.destroy());
  });
  const url = await listen(server);
  const c = new ApiClusterClient({ endpoint: parseApiEndpoint(url, '--endpoint'), requestTimeoutMs: 2000, watch: { retryMs: 10 } });
  const seen: string[] = [];
  const stop = await c.watchUnits(['a.service', 'b.service'], (u) => seen.push(u));
  assert.equal(asked[0], '/flotilla/v1/events', 'from now, filtered here (two units)');
  // No event, no report: the watch does not poll.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seen.length, 0, 'no report without an event');
  const ev = (index: number, unit: string) => ({ Index: index, Events: [{ Topic: 'Unit', Type: 'UnitPlaced', Key: unit, Index: index, Payload: { Unit: unit } }] });
  open[0]?.(ev(11, 'c.service'));
  open[0]?.({});
  open[0]?.(ev(12, 'a.service'));
  await waitFor('a.service reported', () => (seen.includes('a.service') ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
  assert.ok(!seen.includes('c.service') && !seen.includes('b.service'), seen.join(','));
  // A dropped stream is resumed from the last index received.
  cut[0]?.();
  await waitFor('the stream reopened', () => (asked.length === 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
  assert.equal(asked[1], '/flotilla/v1/events?index=12');
  // History gone: 410, every unit re-read, then followed from the index flotillad gave.
  await new Promise((r) => setTimeout(r, 100));
  seen.length = 0;
  gone = true;
  cut[1]?.();
  await waitFor('resumed after the 410', () => (asked.length === 4 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
  assert.equal(asked[3], '/flotilla/v1/events?index=90');
  assert.ok(seen.includes('a.service') && seen.includes('b.service'), seen.join(','));
  await stop();
  const one = await c.watchUnits(['x@1.service'], () => undefined);
  assert.equal(asked.at(-1), '/flotilla/v1/events?unit=x%401.service', 'one unit: filtered by flotillad');
  await one();
  await c.close();
  server.close();
});
