/**
 * The API driver's watchUnits against a real one-host dev cluster: it follows
 * flotillad's event stream (no polling), reports
 * only watched units, and a stream dropped while the cluster changes resumes
 * from its last index, so the change made meanwhile is still reported.
 * Connections go through a dialer the test can hold shut and cut.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ApiClusterClient } from '../../src/client/api-client.js';
import { parseApiEndpoint } from '../../src/client/api-transport.js';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;
let client: ApiClusterClient;
const sockets: Socket[] = [];
let gate: Promise<void> = Promise.resolve();
let opened = 0;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-apiw-'), hosts: 1, ttlSeconds: 5 });
  env = { ...cluster.flotctlEnv(), FLOTCTL_DRIVER: 'etcd' };
  work = await mkdtemp('/tmp/fl-apiw-units-');
  for (const u of ['watched.service', 'other.service']) await writeFile(join(work, u), '[Service]\nExecStart=/bin/sleep infinity\n');
  const path = cluster.apiSocket(0) as string;
  client = new ApiClusterClient({
    endpoint: parseApiEndpoint(`unix://${path}`, '--endpoint'),
    requestTimeoutMs: 3000,
    watch: { retryMs: 20 },
    dialer: {
      open: async (): Promise<Duplex> => {
        await gate;
        opened++;
        return new Promise((resolve, reject) => {
          const s = connect({ path }, () => resolve(s));
          s.once('error', reject);
          sockets.push(s);
        });
      },
      close: () => undefined,
    },
  });
});

after(async () => {
  await client?.close();
  await cluster?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

test('reports a watched unit when an event about it arrives, not an unwatched one, and does not poll', async () => {
  const seen: string[] = [];
  const stop = await client.watchUnits(['watched.service'], (u) => seen.push(u));
  try {
    // Nothing while the cluster is quiet: no report, no new connection.
    const before = opened;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.length, 0, 'no report without an event');
    assert.equal(opened, before, 'no connection opened while quiet');
    const r = await flotctl(env, ['submit', 'other.service', 'watched.service'], { cwd: work });
    assert.equal(r.code, 0, r.stderr);
    await waitFor('watched.service reported', async () => (seen.includes('watched.service') ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
    assert.ok(!seen.includes('other.service'));
  } finally {
    await stop();
  }
});

test('a stream dropped while the unit changes resumes from its last index: the change is still reported', async () => {
  const seen: string[] = [];
  const stop = await client.watchUnits(['watched.service', 'other.service'], (u) => seen.push(u));
  try {
    await new Promise((r) => setTimeout(r, 400));
    seen.length = 0;
    let release = (): void => undefined;
    gate = new Promise((r) => (release = r));
    const reopenedBefore = opened;
    for (const s of sockets.splice(0)) s.destroy();
    // Changed while nothing follows the stream: only a resume from the last index can see it.
    const r = await flotctl(env, ['destroy', 'watched.service']);
    assert.equal(r.code, 0, r.stderr);
    await new Promise((r2) => setTimeout(r2, 200));
    assert.equal(seen.length, 0, 'nothing reported while the stream is down');
    release();
    await waitFor('watched.service reported after the resume', async () => (seen.includes('watched.service') ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
    assert.ok(opened > reopenedBefore, 'the stream was reopened');
    assert.ok(!seen.includes('other.service'), seen.join(','));
  } finally {
    gate = Promise.resolve();
    await stop();
  }
});
