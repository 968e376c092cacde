/**
 * flotctl fd-forward as a process: bytes both ways through a real unix
 * socket, the end of either side ends it, and a socket that cannot be
 * dialled is one line and exit 1 (fleetctl exited 0 there).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { FLOTCTL, flotctl } from './support/run.js';
import { waitFor } from '../../src/util/deadline.js';

let dir: string;

before(async () => {
  dir = await mkdtemp('/tmp/fl-fdf-');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function listen(path: string, onSocket: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true }, onSocket);
    server.listen(path, () => resolve(server));
  });
}

function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test('copies stdin to the socket and the answer to stdout; stdin ending ends it once the socket has answered', async () => {
  const path = join(dir, 'echo.sock');
  let received = '';
  // Answers only after the client's half-close, as an HTTP server finishes a last response.
  const server = await listen(path, (s) => {
    s.setEncoding('utf8').on('data', (d: string) => (received += d));
    s.on('end', () => s.end(`got ${received.length} bytes: ${received.toUpperCase()}`));
  });
  try {
    const r = await flotctl(['fd-forward', path], { input: 'hello through the socket\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(received, 'hello through the socket\n');
    assert.equal(r.stdout, 'got 25 bytes: HELLO THROUGH THE SOCKET\n');
    assert.equal(r.stderr, '');
  } finally {
    server.close();
  }
});

test('the socket closing ends it while stdin is still open', async () => {
  const path = join(dir, 'closer.sock');
  const server = await listen(path, (s) => s.end('bye\n'));
  try {
    // stdin a pipe this test never ends.
    const child = spawn(process.execPath, [FLOTCTL, 'fd-forward', path], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(out, 'bye\n');
    child.stdin.destroy();
  } finally {
    server.close();
  }
});

test('a socket that stays open after stdin ends is cut after a grace period, not waited on forever', async () => {
  const path = join(dir, 'silent.sock');
  const held: Socket[] = [];
  const server = await listen(path, (s) => held.push(s));
  try {
    const r = await flotctl(['fd-forward', path], { input: 'x', timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 8_000, `took ${r.ms} ms`);
  } finally {
    for (const s of held) s.destroy();
    server.close();
  }
});

test('no socket, a dead socket, a plain file, no argument: one line each, exit 1', async () => {
  // A socket file whose listener was killed: connecting is refused.
  const dead = join(dir, 'dead.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dead)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let up = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (up += d));
  await waitFor('the listener up', async () => (up.includes('up') ? true : undefined), { timeoutMs: 10_000 });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  const plain = join(dir, 'plain');
  await writeFile(plain, 'not a socket');
  const cases: Array<[string[], RegExp]> = [
    [['fd-forward', join(dir, 'nope.sock')], /^fd-forward: no socket at \S+nope\.sock: give the path of flotillad's api_socket$/],
    [['fd-forward', dead], /^fd-forward: nothing listens on \S+dead\.sock \(connection refused\): is flotillad running\?$/],
    [['fd-forward', plain], /^fd-forward: (\S+plain is not a unix socket|nothing listens on \S+plain)/],
    [['fd-forward'], /^fd-forward takes a single argument, the path of a unix socket/],
    [['fd-forward', 'a', 'b'], /^fd-forward takes a single argument/],
  ];
  for (const [args, want] of cases) {
    const r = await flotctl(args, { input: '' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), want);
    oneLine(r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('listed in help, as fleetctl listed it', async () => {
  const r = await flotctl(['help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /fd-forward/);
});
