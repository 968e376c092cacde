import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { eventsHandler } from '../../src/events/stream.js';
import type { HistoryStore } from '../../src/registry/history-store.js';

/** Requests refused before the store is asked: a store that throws on any use proves it. */
const untouchable = new Proxy({}, { get: () => { throw new Error('the store was used'); } }) as HistoryStore;

function call(port: number, method: string, path: string): Promise<{ status: number; body: string; allow: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, allow: res.headers.allow as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('events handler: wrong method 405, bad query 400, each one error body, the store untouched', async () => {
  const server = createServer(eventsHandler({ store: untouchable }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  try {
    const post = await call(port, 'POST', '/flotilla/v1/events');
    assert.equal(post.status, 405);
    assert.equal(post.allow, 'GET');
    for (const q of ['?index=abc', '?unit=a%2Fb', '?machine=ZZ', '?topic=x', '?index=1&index=2']) {
      const r = await call(port, 'GET', `/flotilla/v1/events${q}`);
      assert.equal(r.status, 400, q);
      const body = JSON.parse(r.body) as { error: { code: number; message: string } };
      assert.equal(body.error.code, 400);
      assert.ok(body.error.message.length > 0 && !body.error.message.includes('\n'), q);
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
});
