/**
 * The systemd client's pure parts, without a host: object path escaping,
 * job matching, reload coalescing, PropertiesChanged de-duplication.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unitNameFromObjectPath, unitObjectPath } from '../../src/systemd/manager.js';
import { JobTracker, type JobResult } from '../../src/systemd/jobs.js';
import { Coalescer } from '../../src/util/coalesce.js';
import { UnitChangeFeed, UnitPaths } from '../../src/systemd/unit-watch.js';
import type { UnitChange } from '../../src/systemd/types.js';
import { silentLogger } from '../../src/util/log.js';

test('object path escaping follows systemd and round-trips', () => {
  assert.equal(unitObjectPath('foo-bar@1.service'), '/org/freedesktop/systemd1/unit/foo_2dbar_401_2eservice');
  assert.equal(unitNameFromObjectPath('/org/freedesktop/systemd1/unit/foo_2dbar_401_2eservice'), 'foo-bar@1.service');
  // systemd escapes a leading digit too (bus_label_escape).
  assert.equal(unitObjectPath('1x.service'), '/org/freedesktop/systemd1/unit/_31x_2eservice');
  for (const name of ['foo-bar@1.service', 'a.b_c\\x2dd.mount', '9lives.target', 'ünï.service', 'x', 'A_B.slice', '_']) {
    const path = unitObjectPath(name);
    assert.match(path, /^\/org\/freedesktop\/systemd1\/unit\/[A-Za-z0-9_]+$/);
    assert.equal(unitNameFromObjectPath(path), name);
  }
  assert.throws(() => unitNameFromObjectPath('/org/freedesktop/systemd1/job/12'));
});

test('JobTracker matches a JobRemoved that overtook the reply, and shared jobs', async () => {
  const jobs = new JobTracker();
  jobs.removed('/org/freedesktop/systemd1/job/7', 'done');
  assert.equal(await jobs.wait('/org/freedesktop/systemd1/job/7'), 'done');
  assert.equal(jobs.overtaken, 1);

  const a = jobs.wait('/org/freedesktop/systemd1/job/8');
  const b = jobs.wait('/org/freedesktop/systemd1/job/8');
  jobs.removed('/org/freedesktop/systemd1/job/8', 'failed');
  assert.deepEqual(await Promise.all([a, b]), ['failed', 'failed']);
  // A third caller handed the same (merged) job after it finished still gets it.
  assert.equal(await jobs.wait('/org/freedesktop/systemd1/job/8'), 'failed');
  jobs.removed('/org/freedesktop/systemd1/job/9', 'unsupported');
  assert.equal(await jobs.wait('/org/freedesktop/systemd1/job/9'), 'failed' satisfies JobResult);
});

test('JobTracker forgets old results and fails waiters on disconnect', async () => {
  let now = 0;
  const jobs = new JobTracker({ keepMs: 1000, maxKept: 3, now: () => now });
  jobs.removed('/j/1', 'done');
  now = 2000;
  jobs.removed('/j/2', 'done');
  assert.equal(jobs.kept, 1);
  for (const j of ['/j/3', '/j/4', '/j/5']) jobs.removed(j, 'done');
  assert.ok(jobs.kept <= 3);
  const pending = jobs.wait('/j/99');
  jobs.failAll(new Error('gone'));
  await assert.rejects(pending, /gone/);
  assert.equal(jobs.waiting, 0);
});

test('Coalescer: concurrent callers share a run, late callers share one more', async () => {
  let calls = 0;
  let release: () => void = () => undefined;
  const c = new Coalescer(async () => {
    calls++;
    await new Promise<void>((r) => (release = r));
  });
  const first = c.run();
  await Promise.resolve(); // let the first run begin
  await new Promise((r) => setImmediate(r));
  const late = Array.from({ length: 10 }, () => c.run());
  assert.equal(calls, 1);
  assert.ok(late.every((p) => p === late[0]), 'late callers share one promise');
  release();
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 2, 'exactly one follow-up run');
  release();
  await Promise.all(late);
  assert.equal(c.started, 2);
  // Idle again: the next caller starts a fresh run.
  const again = c.run();
  await new Promise((r) => setImmediate(r));
  release();
  await again;
  assert.equal(calls, 3);
});

test('Coalescer: a failed run rejects its callers and does not block the next', async () => {
  let n = 0;
  const c = new Coalescer(async () => {
    n++;
    if (n === 1) throw new Error('boom');
  });
  await assert.rejects(c.run(), /boom/);
  await c.run();
  assert.equal(n, 2);
});

test('UnitChangeFeed decodes paths, filters interfaces and drops repeats', () => {
  const seen: [string, UnitChange][] = [];
  const paths = new UnitPaths();
  const feed = new UnitChangeFeed(paths, silentLogger());
  feed.subscribe((name, change) => seen.push([name, change]));
  const v = (value: string): { signature: string; value: string } => ({ signature: 's', value });
  const signal = (path: string, iface: string, props: Record<string, unknown>): Parameters<UnitChangeFeed['handle']>[0] => ({
    sender: ':1.1',
    path,
    iface: 'org.freedesktop.DBus.Properties',
    member: 'PropertiesChanged',
    body: [iface, props, []],
  });
  const unitIface = 'org.freedesktop.systemd1.Unit';
  const p = unitObjectPath('web@1.service');
  feed.handle(signal(p, unitIface, { ActiveState: v('activating'), SubState: v('start') }));
  feed.handle(signal(p, unitIface, { ActiveState: v('activating'), SubState: v('start') }));
  feed.handle(signal(p, 'org.freedesktop.systemd1.Service', { MainPID: { signature: 'u', value: 5 } }));
  feed.handle(signal(p, unitIface, { ActiveState: v('active'), SubState: v('running'), LoadState: v('loaded') }));
  feed.handle(signal(p, unitIface, { ActiveState: v('active'), SubState: v('running'), Description: v('x') }));
  assert.deepEqual(seen, [
    ['web@1.service', { active: 'activating', sub: 'start' }],
    ['web@1.service', { load: 'loaded', active: 'active', sub: 'running' }],
  ]);
  // After systemd dropped the unit, the same state is news again.
  feed.unitRemoved('web@1.service');
  feed.handle(signal(p, unitIface, { ActiveState: v('active') }));
  assert.deepEqual(seen[2], ['web@1.service', { active: 'active' }]);
  // A path systemd told us about wins over decoding.
  paths.remember('/org/freedesktop/systemd1/unit/odd', 'odd-name.service');
  feed.handle(signal('/org/freedesktop/systemd1/unit/odd', unitIface, { ActiveState: v('failed') }));
  assert.deepEqual(seen[3], ['odd-name.service', { active: 'failed' }]);
});
