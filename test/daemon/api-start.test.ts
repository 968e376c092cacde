/**
 * flotillad's API listener at start-up, without a cluster: a socket another
 * process serves is refused in one line, and a start that fails later (here:
 * no systemd bus) leaves no socket behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FLOTILLAD = fileURLToPath(new URL('../../src/daemon/main.js', import.meta.url));
const MID = '0123456789abcdef0123456789abcdef';

async function flotillad(dir: string, lines: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  const all = {
    machine_id: MID,
    // Nothing listens there: flotillad waits for etcd only as long as the rest of its start takes.
    etcd_servers: 'http://127.0.0.1:9',
    etcd_request_timeout: '0.5',
    units_directory: join(dir, 'units'),
    systemd_bus_address: `unix:path=${join(dir, 'no-bus')}`,
    ...lines,
  };
  await writeFile(path, Object.entries(all).map(([k, v]) => `${k}="${v}"\n`).join(''), { mode: 0o600 });
  const child = spawn(process.execPath, [FLOTILLAD, '--config', path], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

test('a socket in use by another process: one line, exit 1', async () => {
  const dir = await mkdtemp('/tmp/fl-apistart-');
  const sock = join(dir, 'api.sock');
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(sock, resolve));
  try {
    const r = await flotillad(dir, { api_socket: sock });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flotillad: api_socket ${sock} is in use by a running process (another flotillad?): stop it or set another api_socket\n`);
  } finally {
    other.close();
  }
});

test('a start that fails after the API is up removes the socket', async () => {
  const dir = await mkdtemp('/tmp/fl-apistart-');
  const sock = join(dir, 'api.sock');
  const r = await flotillad(dir, { api_socket: sock });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /API listening/);
  await assert.rejects(access(sock), /ENOENT/);
});

test('a bad API setting stops flotillad before it starts anything', async () => {
  const dir = await mkdtemp('/tmp/fl-apistart-');
  const r = await flotillad(dir, { api_socket: join(dir, 'api.sock'), api_address: '0.0.0.0:8079' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flotillad: api_address "0\.0\.0\.0:8079" is not a loopback address/);
  assert.equal(r.stderr.split('\n').length, 2);
});
