/** SystemdManager when its bus or its systemd goes away under pending jobs. */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCallError, SystemdManager } from '../../src/systemd/manager.js';
import { waitFor } from '../../src/util/deadline.js';
import { startFixture, type Fixture } from './fixture.js';

// ExecStartPre keeps the start job queued long enough to be cut off.
const SLOW = '[Service]\nExecStartPre=/bin/sleep 30\nExecStart=/bin/sleep infinity\n';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

for (const victim of ['dbus-daemon', 'systemd'] as const) {
  test(`killing ${victim} rejects the pending start and reports the disconnect`, async () => {
    fx = await startFixture(victim === 'systemd' ? 'sdkill' : 'dbkill');
    const m = fx.manager;
    const lost: Error[] = [];
    m.onDisconnect((err) => lost.push(err));
    await m.linkUnitFiles([await fx.writeUnit('slow.service', SLOW)]);
    await m.reload();
    const pending = m.startUnit('slow.service');
    await waitFor('start job to run', async () => ((await m.unitStatus('slow.service')).active === 'activating' ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
    });
    process.kill(victim === 'systemd' ? fx.host.systemdPid : fx.host.dbusPid, 'SIGKILL');
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof BusCallError);
      assert.equal(err.dbusName, 'flotilla.Disconnected');
      assert.match(err.message, /slow\.service/);
      return true;
    });
    await waitFor('disconnect report', () => (lost.length > 0 ? true : undefined), { timeoutMs: 5000, intervalMs: 10 });
    assert.equal(lost.length, 1);
    assert.equal(m.connected, false);
    await assert.rejects(m.unitStatus('slow.service'), /Disconnected/);
  });
}

test('connecting to a bus that does not exist fails cleanly', async () => {
  await assert.rejects(
    SystemdManager.connect('unix:path=/tmp/fsd-nonexistent/bus'),
    (err: unknown) => err instanceof BusCallError && /cannot connect/.test(err.message),
  );
});
