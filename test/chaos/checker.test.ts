/**
 * The checker sees what systemd runs, not what Flotilla says: a unit started
 * by hand on two hosts behind Flotilla's back is a duplicate, and placement
 * becomes correct the moment one copy is stopped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { Checker } from './checker.js';
import { FaultLog } from './fault-log.js';
import { policyOf } from './units.js';
import { Violations } from './violations.js';

const UNIT = 'by-hand.service';
const TEXT = '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nOnDisconnect=stop\n';
let cluster: LocalCluster;
let dir: string;

before(async () => {
  dir = await mkdtemp('/tmp/fl-check-');
  cluster = await LocalCluster.start({ dir, hosts: 2, waitForAgents: false });
  for (const h of cluster.hosts) {
    await writeFile(join(h.configDir, 'systemd', 'user', UNIT), TEXT);
    assert.equal((await cluster.systemctl(h.index, ['daemon-reload'])).code, 0);
  }
});

after(async () => {
  await cluster?.down();
  await rm(dir, { recursive: true, force: true });
});

test('policyOf reads OnDisconnect and Global from the unit file', () => {
  assert.equal(policyOf(UNIT, TEXT).policy, 'stop');
  assert.equal(policyOf(UNIT, '[Service]\nExecStart=/bin/true\n').policy, 'keep');
  assert.equal(policyOf(UNIT, '[Service]\nExecStart=/bin/true\n[X-Fleet]\nOnDisconnect=stop\nOnDisconnect=keep\n').policy, 'keep');
  assert.equal(policyOf(UNIT, '[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\n').global, true);
});

test('a stop unit running on two hosts is one duplicate episode; one copy stopped settles placement', async () => {
  const faults = new FaultLog();
  const violations = new Violations(faults);
  const checker = new Checker(cluster, [policyOf(UNIT, TEXT)], faults, violations, 50);
  checker.start();
  try {
    const since = faults.now();
    for (const i of [0, 1]) assert.equal((await cluster.systemctl(i, ['start', UNIT])).code, 0);
    await waitFor('a duplicate seen in several samples', () => (violations.list[0] && violations.list[0].samples >= 3 ? true : undefined), { timeoutMs: 5_000 });
    const settled = checker.awaitSettled(since, 300, 5_000);
    assert.equal((await cluster.systemctl(1, ['stop', UNIT])).code, 0);
    const s = await settled;
    assert.ok(s.recoveredAt !== undefined, `never settled: ${s.wrong.join('; ')}`);
    assert.ok(s.wrong.some((w) => w.includes(UNIT)), 'the complaint before settling should name the unit');
  } finally {
    await checker.stop();
  }
  assert.equal(violations.count('duplicate-stop'), 1);
  const [v] = violations.list;
  assert.deepEqual(v?.hosts, ['host1', 'host2']);
  assert.match(v?.detail ?? '', /host1 active\/running, host2 active\/running/);
  assert.equal(checker.hostErrors, 0);
  assert.ok(checker.transitions.some((t) => t.kind === 'stop' && t.host === 1 && t.unit === UNIT));
});
