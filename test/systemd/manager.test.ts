/** SystemdManager against a real systemd --user on its own bus. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BusCallError, unitObjectPath, type UnitChange } from '../../src/systemd/manager.js';
import { FlotillaError } from '../../src/util/errors.js';
import { waitFor } from '../../src/util/deadline.js';
import { allMatchRules, startFixture, type Fixture } from './fixture.js';

const SLEEPER = '[Service]\nExecStart=/bin/sleep infinity\n';

describe('SystemdManager', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture('sd1');
  });
  after(async () => {
    await fx?.cleanup();
  });

  test('link + reload + start runs the unit; stop stops it', async () => {
    const m = fx.manager;
    await m.linkUnitFiles([await fx.writeUnit('hello.service', SLEEPER)]);
    await m.reload();
    assert.equal(await m.startUnit('hello.service'), 'done');
    const st = await m.unitStatus('hello.service');
    assert.equal(st.name, 'hello.service');
    assert.equal(st.load, 'loaded');
    assert.equal(st.active, 'active');
    assert.equal(st.sub, 'running');
    assert.ok(st.mainPid > 0, `MainPID ${st.mainPid}`);
    assert.equal(st.needDaemonReload, false);
    const shown = await fx.show('hello.service', ['ActiveState', 'SubState', 'MainPID', 'LoadState']);
    assert.deepEqual(shown, { ActiveState: 'active', SubState: 'running', MainPID: String(st.mainPid), LoadState: 'loaded' });
    assert.ok((await m.listUnits()).some((u) => u.name === 'hello.service' && u.active === 'active'));

    assert.equal(await m.stopUnit('hello.service'), 'done');
    const stopped = await m.unitStatus('hello.service');
    assert.equal(stopped.active, 'inactive');
    assert.equal(stopped.sub, 'dead');
    assert.equal(stopped.mainPid, 0);
    assert.equal((await fx.show('hello.service', ['ActiveState'])).ActiveState, 'inactive');
  });

  test('a failing oneshot unit ends its job as failed; reset-failed clears it', async () => {
    const m = fx.manager;
    await m.linkUnitFiles([await fx.writeUnit('fails.service', '[Service]\nType=oneshot\nExecStart=/bin/false\n')]);
    await m.reload();
    assert.equal(await m.startUnit('fails.service'), 'failed');
    assert.equal((await m.unitStatus('fails.service')).active, 'failed');
    await m.resetFailedUnit('fails.service');
    assert.equal((await m.unitStatus('fails.service')).active, 'inactive');
    await m.resetFailedUnit('never-loaded.service'); // not loaded: ignored
  });

  test('starting a unit systemd cannot load rejects with a FlotillaError naming unit and cause', async () => {
    const m = fx.manager;
    await assert.rejects(m.startUnit('no-such-thing.service'), (err: unknown) => {
      assert.ok(err instanceof FlotillaError);
      assert.ok(err instanceof BusCallError);
      assert.match(err.message, /no-such-thing\.service/);
      assert.equal(err.dbusName, 'org.freedesktop.systemd1.NoSuchUnit');
      return true;
    });
    await m.linkUnitFiles([await fx.writeUnit('bad.service', '[Service]\nExecStart=relative/path\n')]);
    await assert.rejects(m.startUnit('bad.service'), /bad\.service.*bad unit file setting/);
    // Stopping what systemd has not loaded is not an error: it is not running.
    assert.equal(await m.stopUnit('no-such-thing.service'), 'done');
  });

  test('an unknown unit reads as not-found', async () => {
    assert.deepEqual(await fx.manager.unitStatus('ghost.service'), {
      name: 'ghost.service',
      load: 'not-found',
      active: 'inactive',
      sub: 'dead',
      mainPid: 0,
      needDaemonReload: false,
    });
    const t = await fx.manager.unitStatus('ghost.target');
    assert.equal(t.load, 'not-found');
  });

  test('100 concurrent starts all resolve', async () => {
    const m = fx.manager;
    const names = Array.from({ length: 100 }, (_, i) => `many${i}.service`);
    await m.linkUnitFiles(await Promise.all(names.map((n) => fx.writeUnit(n, SLEEPER))));
    await m.reload();
    const results = await Promise.all(names.map((n) => m.startUnit(n)));
    assert.deepEqual(new Set(results), new Set(['done']));
    const states = await Promise.all(names.map((n) => m.unitStatus(n)));
    assert.ok(states.every((s) => s.active === 'active' && s.mainPid > 0));
    const stops = await Promise.all(names.map((n) => m.stopUnit(n)));
    assert.deepEqual(new Set(stops), new Set(['done']));
    await m.disableUnitFiles(names);
    await m.disableUnitFiles(names); // idempotent
  });

  test('onUnitChange sees active then inactive, through one PropertiesChanged match rule', async () => {
    const m = fx.manager;
    const events: UnitChange[] = [];
    const off = m.onUnitChange((name, change) => {
      // Decoded from systemd's own object path: nothing asked for this unit's status first.
      if (name === 'watch-me@1.service') events.push(change);
    });
    try {
      await m.linkUnitFiles([await fx.writeUnit('watch-me@.service', SLEEPER)]);
      await m.reload();
      assert.equal(await m.startUnit('watch-me@1.service'), 'done');
      await waitFor('active event', () => (events.some((e) => e.active === 'active') ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
      assert.equal(await m.stopUnit('watch-me@1.service'), 'done');
      await waitFor('inactive event', () => (events.some((e) => e.active === 'inactive') ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
    } finally {
      off();
    }
    const actives = events.map((e) => e.active).filter((a) => a !== undefined);
    const iActive = actives.indexOf('active');
    assert.ok(iActive >= 0 && actives.lastIndexOf('inactive') > iActive, `order: ${actives.join(' ')}`);
    assert.ok(events.every((e) => Object.keys(e).length > 0), 'no empty events');

    const rules = Object.values(await allMatchRules(fx.host.busAddress)).flat();
    const pc = rules.filter((r) => r.includes("member='PropertiesChanged'"));
    assert.equal(pc.length, 1, pc.join('\n'));
    assert.match(pc[0]!, /path_namespace='\/org\/freedesktop\/systemd1\/unit'/);
  });

  test('reload is coalesced: N concurrent calls cost at most two Reloads', async () => {
    const m = fx.manager;
    const before = m.reloadCalls;
    await Promise.all(Array.from({ length: 20 }, () => m.reload()));
    assert.ok(m.reloadCalls - before <= 2, `${m.reloadCalls - before} Reload calls`);
    // Callers arriving while a Reload runs get exactly one more, shared.
    const start = m.reloadCalls;
    const first = m.reload();
    await new Promise((r) => setImmediate(r));
    const late = Array.from({ length: 10 }, () => m.reload());
    await Promise.all([first, ...late]);
    assert.equal(m.reloadCalls - start, 2);
  });

  test('object path escaping matches what systemd itself uses', async () => {
    const name = 'foo-bar@1.service';
    assert.equal(unitObjectPath(name), '/org/freedesktop/systemd1/unit/foo_2dbar_401_2eservice');
    for (const n of [name, '1digit.service']) {
      // busctl asks systemd for its own path of the unit.
      const { stdout } = await busctl(fx, ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'LoadUnit', 's', n]);
      assert.equal(stdout.trim(), `o "${unitObjectPath(n)}"`);
    }
  });

  test('a brand-new unit file starts without a Reload', async () => {
    const m = fx.manager;
    const reloads = m.reloadCalls;
    // Linked from elsewhere ...
    await m.linkUnitFiles([await fx.writeUnit('fresh-linked.service', SLEEPER)]);
    assert.equal(await m.startUnit('fresh-linked.service'), 'done');
    // ... or written straight into the runtime unit dir, after systemd already
    // cached the name as not-found.
    assert.equal((await m.unitStatus('fresh-written.service')).load, 'not-found');
    const rtDir = join(fx.host.runtimeDir, 'systemd', 'user');
    await mkdir(rtDir, { recursive: true });
    await writeFile(join(rtDir, 'fresh-written.service'), SLEEPER);
    assert.equal(await m.startUnit('fresh-written.service'), 'done');
    assert.equal(m.reloadCalls, reloads);
    for (const n of ['fresh-linked.service', 'fresh-written.service']) {
      assert.equal((await m.unitStatus(n)).active, 'active');
      await m.stopUnit(n);
    }
  });
});

async function busctl(fx: Fixture, args: string[]): Promise<{ stdout: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('busctl', ['--user', ...args], { env: { ...process.env, ...fx.host.env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`busctl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ stdout });
    });
  });
}
