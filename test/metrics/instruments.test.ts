import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { FlotillaMetrics } from '../../src/metrics/instruments.js';
import { observeElection, observeEngine, observePresence, timedUnitManager } from '../../src/metrics/sources.js';
import { parseListenAddress, startMetricsListener } from '../../src/metrics/http.js';
import { EngineStats } from '../../src/engine/stats.js';
import type { PresenceEvents } from '../../src/agent/presence.js';
import type { ElectionEvents } from '../../src/engine/election.js';
import { MemoryUnitManager } from '../support/memory-unit-manager.js';
import { sample } from './scrape.js';

const text = async (m: FlotillaMetrics): Promise<string> => (await m.exposition()).body;

test('metrics: engine totals are read when scraped, and counters only grow', async () => {
  const m = new FlotillaMetrics();
  const engine = { stats: new EngineStats(), leading: true };
  observeEngine(m, engine);
  let t = await text(m);
  assert.equal(sample(t, 'flotilla_engine_rounds_total'), 0);
  assert.equal(sample(t, 'flotilla_engine_leader'), 1);
  engine.stats.addRound({ round: 'r1', offered: 4, bids: 3, placed: 4, moved: 1, unplaced: 0, engineRequests: 2, ms: 5 });
  engine.stats.addRound({ round: 'r2', offered: 2, bids: 3, placed: 1, moved: 0, unplaced: 1, engineRequests: 2, ms: 5 });
  t = await text(m);
  assert.equal(sample(t, 'flotilla_engine_rounds_total'), 2);
  assert.equal(sample(t, 'flotilla_engine_round_units_total'), 6);
  assert.equal(sample(t, 'flotilla_engine_bids_total'), 6);
  assert.equal(sample(t, 'flotilla_engine_units_placed_total'), 5);
  assert.equal(sample(t, 'flotilla_engine_units_unplaced_total'), 1);
  engine.stats.unitsPlacedDirectly += 3;
  engine.stats.fencedWritesRejected += 1;
  t = await text(m);
  assert.equal(sample(t, 'flotilla_engine_units_placed_total'), 8, 'direct placements are placements');
  assert.equal(sample(t, 'flotilla_engine_units_placed_directly_total'), 3);
  assert.equal(sample(t, 'flotilla_engine_fenced_writes_rejected_total'), 1);
  t = await text(m);
  assert.equal(sample(t, 'flotilla_engine_rounds_total'), 2, 'a second scrape must not count again');
  engine.leading = false;
  assert.equal(sample(await text(m), 'flotilla_engine_leader'), 0);
});

test('metrics: presence renewals, their gaps, keepalive round trips and holds', async () => {
  const m = new FlotillaMetrics();
  const presence = new EventEmitter<PresenceEvents>();
  let clock = 0;
  observePresence(m, presence, () => clock);
  presence.emit('lease', '7');
  clock = 1000;
  presence.emit('renewed', 2);
  clock = 3500;
  presence.emit('renewed', 400);
  presence.emit('silent');
  let t = await text(m);
  assert.equal(sample(t, 'flotilla_lease_acquired_total'), 1);
  assert.equal(sample(t, 'flotilla_lease_renewals_total'), 2);
  assert.equal(sample(t, 'flotilla_lease_renewal_gap_seconds_sum'), 3.5);
  assert.equal(sample(t, 'flotilla_lease_renewal_gap_seconds_bucket', { le: '2' }), 1);
  assert.equal(sample(t, 'flotilla_lease_keepalive_seconds_count'), 2);
  assert.equal(sample(t, 'flotilla_lease_keepalive_seconds_bucket', { le: '0.0025' }), 1);
  assert.equal(sample(t, 'flotilla_lease_keepalive_seconds_bucket', { le: '0.25' }), 1);
  assert.equal(sample(t, 'flotilla_lease_keepalive_seconds_bucket', { le: '0.5' }), 2);
  assert.equal(sample(t, 'flotilla_agent_holds_total', { cause: 'silent' }), 1);
  assert.equal(sample(t, 'flotilla_agent_held'), 1);
  presence.emit('renewed', 1);
  t = await text(m);
  assert.equal(sample(t, 'flotilla_agent_held'), 0);
});

test('metrics: leadership changes are counted', async () => {
  const m = new FlotillaMetrics();
  const election = new EventEmitter<ElectionEvents>();
  observeElection(m, election);
  election.emit('elected', { candidateKey: 'k', revision: 1, leaseId: '1' });
  election.emit('deposed');
  const t = await text(m);
  assert.equal(sample(t, 'flotilla_engine_leadership_changes_total', { change: 'elected' }), 1);
  assert.equal(sample(t, 'flotilla_engine_leadership_changes_total', { change: 'deposed' }), 1);
});

test('metrics: systemd jobs are timed by operation and result, errors included, behaviour unchanged', async () => {
  const m = new FlotillaMetrics();
  const inner = new MemoryUnitManager();
  const timed = timedUnitManager(inner, m);
  assert.equal(await timed.startUnit('a.service'), 'done');
  assert.ok(inner.active.has('a.service'));
  await timed.reload();
  inner.reload = async () => {
    throw new Error('bus gone');
  };
  await assert.rejects(timed.reload(), /bus gone/);
  const t = await text(m);
  assert.equal(sample(t, 'flotilla_systemd_job_duration_seconds_count', { operation: 'start', result: 'done' }), 1);
  assert.equal(sample(t, 'flotilla_systemd_job_duration_seconds_count', { operation: 'reload', result: 'done' }), 1);
  assert.equal(sample(t, 'flotilla_systemd_job_duration_seconds_count', { operation: 'reload', result: 'error' }), 1);
});

test('metrics: process defaults are there', async () => {
  const t = await text(new FlotillaMetrics());
  assert.ok(sample(t, 'process_resident_memory_bytes')! > 0);
  assert.ok(sample(t, 'nodejs_eventloop_lag_seconds') !== undefined);
});

test('metrics address: HOST:PORT accepted, anything else one line naming the value', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9101'), { host: '127.0.0.1', port: 9101 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress('metrics.local:80'), { host: 'metrics.local', port: 80 });
  for (const bad of ['9101', ':9101', '1.2.3.4:99999', '[nope]:1', 'a b:1', '/var/run/x.sock', 'host:port']) {
    assert.throws(() => parseListenAddress(bad), (err: Error) => err.message.includes(`"${bad}"`) && err.message.includes('HOST:PORT') && !err.message.includes('\n'), bad);
  }
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('metrics listener: GET /metrics is the exposition text; other paths 404, other methods 405', async () => {
  const m = new FlotillaMetrics();
  const l = await startMetricsListener('127.0.0.1:0', m);
  try {
    const ok = await get(l.address.port, '/metrics');
    assert.equal(ok.status, 200);
    assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
    assert.ok(ok.body.includes('# TYPE flotilla_placement_latency_seconds histogram'));
    assert.equal((await get(l.address.port, '/')).status, 404);
    const post = await get(l.address.port, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(JSON.parse(post.body).error.code, 405);
  } finally {
    await l.close();
  }
});

test('metrics: failed etcd requests are counted by error class', async () => {
  const { connectStore } = await import('../../src/registry/store.js');
  const { observeEtcdErrors } = await import('../../src/metrics/sources.js');
  const { metricsStoreOver } = await import('../../src/registry/metrics-store.js');
  const { Registry } = await import('../../src/registry/registry.js');
  const m = new FlotillaMetrics();
  // Nothing listens on port 9 of loopback: every attempt fails fast.
  const etcd = connectStore({ endpoints: ['http://127.0.0.1:9'], requestTimeoutMs: 300, dialTimeoutMs: 300 });
  try {
    assert.equal(observeEtcdErrors(m, metricsStoreOver(new Registry(etcd))), true, 'etcd3 still has the retry policy this reads');
    await assert.rejects(etcd.get('x').exec());
    const t = await text(m);
    const failed = t.split('\n').filter((l) => l.startsWith('flotilla_etcd_request_errors_total{'));
    assert.ok(failed.length > 0 && failed.every((l) => Number(l.split(' ')[1]) >= 1), t);
  } finally {
    etcd.close();
  }
});
