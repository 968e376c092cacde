/**
 * Metrics of a real daemon on a real host (etcd, systemd --user): scraped
 * over HTTP before and after a unit is placed, the figures must move. The
 * host's own flotillad is stopped and its roles run in this process with the
 * metrics wiring (support/wired-daemon.ts), as flotillad.ts will run them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { LocalCluster } from '../../src/dev/cluster.js';
import { loadConfig } from '../../src/daemon/config.js';
import { Keys } from '../../src/registry/keys.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostUnit } from '../support/hosts.js';
import { sample } from './scrape.js';
import { startWiredDaemon, type WiredDaemon } from './support/wired-daemon.js';

let cluster: LocalCluster;
let daemon: WiredDaemon | undefined;
let port = 0;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-metrics-'), hosts: 1, ttlSeconds: 3 });
  const host = cluster.hosts[0]!;
  const stopped = await cluster.systemctl(0, ['stop', 'flotillad.service']);
  assert.equal(stopped.code, 0, stopped.stderr);
  const etcd = cluster.connect();
  try {
    await waitFor('the host\'s own flotillad gone from etcd', async () => {
      const r = await etcd.get(new Keys(cluster.prefix).machine(host.machineId)).exec();
      return r.kvs.length === 0 ? true : undefined;
    }, { timeoutMs: 10_000 });
  } finally {
    etcd.close();
  }
  daemon = await startWiredDaemon(loadConfig(host.configPath), host.busAddress, '127.0.0.1:0');
  port = daemon.served.listener!.address.port;
});

after(async () => {
  await daemon?.stop();
  await cluster?.down();
});

function scrape(): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject).end();
  });
}

const n = (text: string, name: string, labels: Record<string, string> = {}): number => sample(text, name, labels) ?? 0;

test('metrics move when a unit is placed: rounds, bids, placement latency, systemd jobs, units by state, renewals', async () => {
  const machine = cluster.hosts[0]!.machineId;
  await waitFor('this daemon leads', async () => (n(await scrape(), 'flotilla_engine_leader') === 1 ? true : undefined), { timeoutMs: 15_000 });
  const before = await scrape();
  assert.equal(n(before, 'flotilla_placement_latency_seconds_count'), 0);
  assert.equal(n(before, 'flotilla_units', { machine, state: 'active' }), 0);

  const work = await mkdtemp('/tmp/fl-metrics-units-');
  // A Condition the host must check: the unit goes through a bid round (content with nothing to check is placed directly).
  await writeFile(join(work, 'm.service'), '[Unit]\nConditionPathExists=/\n\n[Service]\nExecStart=/bin/sleep infinity\n');
  const r = await flotctl(cluster.flotctlEnv(), ['start', 'm.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  await waitFor('m.service active on the host', async () => ((await hostUnit(cluster, 0, 'm.service')).active === 'active' ? true : undefined), { timeoutMs: 20_000 });

  const after = await waitFor('the placement measured', async () => {
    const t = await scrape();
    return n(t, 'flotilla_placement_latency_seconds_count') >= 1 && n(t, 'flotilla_units', { machine, state: 'active' }) >= 1 ? t : undefined;
  }, { timeoutMs: 10_000 });
  const latency = n(after, 'flotilla_placement_latency_seconds_sum');
  assert.ok(latency > 0 && latency < 20, `placement latency ${latency} s`);
  assert.ok(n(after, 'flotilla_engine_rounds_total') > n(before, 'flotilla_engine_rounds_total'), 'rounds');
  assert.ok(n(after, 'flotilla_engine_round_units_total') > n(before, 'flotilla_engine_round_units_total'), 'round size');
  assert.ok(n(after, 'flotilla_engine_bids_total') > n(before, 'flotilla_engine_bids_total'), 'bids');
  assert.ok(n(after, 'flotilla_engine_units_placed_total') > n(before, 'flotilla_engine_units_placed_total'), 'placed');
  const starts = (t: string) => n(t, 'flotilla_systemd_job_duration_seconds_count', { operation: 'start', result: 'done' });
  assert.ok(starts(after) > starts(before), 'systemd start jobs');
  assert.ok(n(after, 'flotilla_agent_reconcile_batch_seconds_count') > n(before, 'flotilla_agent_reconcile_batch_seconds_count'), 'reconcile batches');
  assert.equal(n(after, 'flotilla_engine_fenced_writes_rejected_total'), 0);
  assert.equal(n(after, 'flotilla_engine_leadership_changes_total', { change: 'elected' }), 1);
  // Renewals come every TTL/3 (1 s here).
  const renewals = n(before, 'flotilla_lease_renewals_total');
  const keepalives = n(before, 'flotilla_lease_keepalive_seconds_count');
  await waitFor('lease renewals and their round trips counted', async () => {
    const t = await scrape();
    return n(t, 'flotilla_lease_renewals_total') > renewals && n(t, 'flotilla_lease_keepalive_seconds_count') > keepalives ? true : undefined;
  }, { timeoutMs: 5_000 });
  assert.equal(n(after, 'flotilla_agent_held'), 0);
  assert.ok(n(after, 'process_resident_memory_bytes') > 0);
});
