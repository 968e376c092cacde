/**
 * Whole-etcd outage on a real cluster (issue 4, required behaviour 3): every
 * etcd member is killed for 3 x TTL while 3 hosts run units. OnDisconnect=keep
 * units must keep running untouched (same host, same MainPID) through the
 * outage and the recovery; flotctl must say at once that the store is
 * unreachable; OnDisconnect=stop units are fenced (stopped) by their hosts'
 * dead man's switch and must run again, on exactly one host, once etcd is back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';
import { PinWatch } from '../support/pin-watch.js';

const TTL = 3;
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 3 * TTL * 1000);
const KEEP = ['keep-1', 'keep-2', 'keep-3', 'keep-4', 'keep-5', 'keep-6'].map((u) => `${u}.service`);
const STOP = ['stop-1', 'stop-2'].map((u) => `${u}.service`);
const ALL = [...KEEP, ...STOP];

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-outage-'), hosts: 3, ttlSeconds: TTL, etcdMembers: 3, fastElection: true });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
  for (const u of KEEP) await writeFile(join(work, u), '[Service]\nExecStart=/bin/sleep infinity\n');
  for (const u of [...STOP, 'after.service']) {
    const policy = u === 'after.service' ? '' : '\n[X-Fleet]\nOnDisconnect=stop\n';
    await writeFile(join(work, u), `[Service]\nExecStart=/bin/sleep infinity\n${policy}`);
  }
  const r = await flotctl(env, ['start', ...ALL], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
});

/** Every unit active on exactly one host, by the hosts' systemd and by flotctl. */
async function converged(units: readonly string[]): Promise<true | undefined> {
  for (const u of units) if ((await hostsRunning(cluster, u)).length !== 1) return undefined;
  const list = await flotctl(env, ['list-units', '--no-legend', '--fields', 'unit,active']);
  if (list.code !== 0) return undefined;
  const listed = rows(list.stdout);
  for (const u of units) {
    const mine = listed.filter((row) => row[0] === u);
    if (mine.length !== 1 || mine[0]?.[1] !== 'active') return undefined;
  }
  return true;
}

test('a whole-etcd outage: keep units run on untouched, flotctl fails fast, everything converges after', async () => {
  await waitFor('every unit active on exactly one host', () => converged(ALL), { timeoutMs: 20_000 });
  const pins = await PinWatch.pinNow(cluster, KEEP);
  const watch = new PinWatch(cluster, pins, STOP);
  watch.start();
  try {
    const down = Date.now();
    await cluster.killEtcd();

    // The CLI: a clear one-line error and a non-zero exit, well before any TTL-scale wait.
    const list = await flotctl(env, ['list-units'], { timeoutMs: 20_000 });
    console.log(`# flotctl list-units during the outage: exit ${list.code} after ${Date.now() - down} ms: ${list.stderr.trim()}`);
    assert.equal(list.code, 3, `exit ${list.code}: ${list.stderr}`);
    assert.match(list.stderr, /cluster store unreachable/);
    assert.equal(list.stderr.trim().split('\n').length, 1, list.stderr);
    assert.doesNotMatch(list.stderr, /^\s+at /m, 'stack trace printed');
    assert.equal(list.stdout, '');

    // Stop units are fenced by their host's switch: stopped, since nothing can vouch for them.
    await waitFor('OnDisconnect=stop units stopped on every host', async () => {
      for (const u of STOP) if ((await hostsRunning(cluster, u)).length > 0) return undefined;
      return true;
    }, { timeoutMs: OUTAGE_MS });
    await waitFor(`etcd down for ${OUTAGE_MS} ms`, () => (Date.now() - down >= OUTAGE_MS ? true : undefined), { timeoutMs: OUTAGE_MS + 1000, intervalMs: 100 });
    const back = Date.now();
    await cluster.restartEtcd();
    console.log(`# etcd down ${back - down} ms, healthy again after ${Date.now() - back} ms`);

    await waitFor('every unit active on exactly one host again', () => converged(ALL), { timeoutMs: 6 * TTL * 1000 });
    console.log(`# converged ${Date.now() - back} ms after etcd was restarted`);
    // Old leases expire a TTL after etcd's new leader is elected: nothing may move then either.
    const settledAt = Date.now();
    await waitFor('two more TTLs', () => (Date.now() - settledAt >= 2 * TTL * 1000 ? true : undefined), { timeoutMs: 3 * TTL * 1000, intervalMs: 100 });
    assert.equal(await converged(ALL), true, 'the placement changed after it had converged');
  } finally {
    await watch.stop();
  }
  assert.ok(watch.samples >= 40, `only ${watch.samples} samples`);
  assert.deepEqual(watch.violations.slice(0, 10), []);
  assert.deepEqual(await PinWatch.pinNow(cluster, KEEP), pins, 'a keep unit restarted or moved');

  const files = rows((await flotctl(env, ['list-unit-files', '--no-legend', '--fields', 'unit,dstate'])).stdout);
  assert.deepEqual(files.filter((f) => ALL.includes(f[0] ?? '')).map((f) => f.join(' ')).sort(), ALL.map((u) => `${u} launched`).sort());
});

test('after the outage a new unit starts', async () => {
  const r = await flotctl(env, ['start', 'after.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  await waitFor('after.service active on exactly one host', () => converged(['after.service']), { timeoutMs: 10_000 });
});
