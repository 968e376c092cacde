import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { TcpProxy } from '../../src/dev/proxy.js';
import { waitFor } from '../../src/util/deadline.js';

/** An echo server: what a client sends through the proxy comes back through it. */
async function echoServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no address');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

interface Client { socket: Socket; received: () => string; closed: () => string | undefined }

async function client(proxy: TcpProxy): Promise<Client> {
  const socket = connect(proxy.port, '127.0.0.1');
  let data = '';
  let closed: string | undefined;
  socket.setEncoding('utf8').on('data', (d: string) => { data += d; });
  socket.on('error', (err: NodeJS.ErrnoException) => { closed = err.code ?? 'error'; });
  socket.on('close', () => { closed ??= 'closed'; });
  await once(socket, 'connect');
  return { socket, received: () => data, closed: () => closed };
}

const until = <T>(what: string, check: () => T | undefined) => waitFor(what, check, { timeoutMs: 3_000, intervalMs: 5 });

/** Nothing arrives for a while: the only way to see that a black hole holds. */
async function staysSilent(c: Client, ms: number): Promise<void> {
  const before = c.received();
  await new Promise((r) => setTimeout(r, ms));
  assert.equal(c.received(), before);
  assert.equal(c.closed(), undefined);
}

test('forwards both ways; blackhole holds open and new connections, heal delivers what waited', async () => {
  const { server, url } = await echoServer();
  const proxy = await TcpProxy.start({ target: url });
  try {
    const a = await client(proxy);
    a.socket.write('one');
    await until('echo through the proxy', () => (a.received() === 'one' ? true : undefined));

    proxy.pause('blackhole');
    assert.equal(proxy.partitioned, 'blackhole');
    a.socket.write('two');
    const b = await client(proxy); // accepted, like a SYN that a dead path would swallow later
    b.socket.write('hello');
    await staysSilent(a, 300);
    assert.equal(b.received(), '');

    proxy.resume();
    assert.equal(proxy.partitioned, undefined);
    await until('held bytes delivered', () => (a.received() === 'onetwo' ? true : undefined));
    await until('held connection connected', () => (b.received() === 'hello' ? true : undefined));
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await proxy.close();
    server.close();
  }
});

test('reset mode resets open connections and refuses new ones until healed', async () => {
  const { server, url } = await echoServer();
  const proxy = await TcpProxy.start({ target: url });
  try {
    const a = await client(proxy);
    proxy.pause('reset');
    await until('open connection reset', () => a.closed());
    assert.equal(a.closed(), 'ECONNRESET');

    const b = connect(proxy.port, '127.0.0.1');
    const [err] = (await once(b, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');

    proxy.resume();
    const c = await client(proxy);
    c.socket.write('back');
    await until('echo after heal', () => (c.received() === 'back' ? true : undefined));
    c.socket.destroy();
  } finally {
    await proxy.close();
    server.close();
  }
});

test('a dead target is passed on as a reset, and close() leaves no connection behind', async () => {
  const { server, url } = await echoServer();
  const proxy = await TcpProxy.start({ target: url });
  const a = await client(proxy);
  a.socket.write('x');
  await until('echo', () => (a.received() === 'x' ? true : undefined));
  server.close();
  // The target stops listening: a new connection through the proxy is refused upstream.
  await new Promise((r) => setTimeout(r, 0));
  const b = await client(proxy);
  await until('refused upstream, reset downstream', () => b.closed());
  assert.equal(b.closed(), 'ECONNRESET');
  await proxy.close();
  await until('open connection closed by close()', () => a.closed());
  assert.equal(proxy.connections, 0);
  const refused = connect(proxy.port, '127.0.0.1');
  const [err] = (await once(refused, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});
