/**
 * Why a unit runs nowhere, through the built flotctl against a real etcd.
 * No engine runs: the test writes the engine's P/unplaced/<unit> reports,
 * assignments and the agents' states itself, standing in for the daemons.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { cells } from './support/run.js';
import { EtcdFixture, type Space, forEachDriver } from './support/etcd-space.js';

const HELLO = '[Service]\nExecStart=/bin/sleep 100\n';
const GLOBAL = '[Service]\nExecStart=/bin/sleep 100\n\n[X-Fleet]\nGlobal=true\n';
const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const M2 = '2b9e0c41aa5e4c7f9a1d0c2b3e4f5a6b';
const M3 = '3c5d0000aa5e4c7f9a1d0c2b3e4f5a6b';
const AT = '2024-05-01T10:00:00.000Z';
const REASONS = { [M1]: 'conflicts with b.service', [M2]: 'metadata region=eu not matched', [M3]: 'metadata region=eu not matched' };

describe('placement problems', () => {
  let fx: EtcdFixture;
  before(async () => {
    fx = await EtcdFixture.start({ 'hello.service': HELLO, 'other.service': HELLO, 'global.service': GLOBAL });
  });
  after(async () => {
    await fx.stop();
  });

  /** Two live machines (M3 has left), and the engine's report that nobody takes `unit`. */
  const unplaceable = async (s: Space, unit: string, reasons: Record<string, string> = REASONS): Promise<void> => {
    await s.putMachine(M1, '127.0.1.1');
    await s.putMachine(M2, '');
    await fx.raw.put(s.keys.unplaced(unit)).value(encode({ unit, hash: UnitFile.parse(HELLO).hash(), reasons, at: AT }));
  };

  const place = async (s: Space, unit: string, machine: string): Promise<void> => {
    const hash = UnitFile.parse(HELLO).hash();
    await fx.raw.delete().key(s.keys.unplaced(unit));
    await fx.raw.put(s.keys.assignment(machine, unit)).value(encode({ unit, hash, desired: 'launched' }));
    await fx.raw
      .put(s.keys.state(unit, machine))
      .value(encode({ unit, machineId: machine, hash, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }));
  };

  forEachDriver((driver) => describe(driver, () => {
    it('why: one line per machine for an unplaced unit', async () => {
      const s = await fx.space(driver);
      await s.run(['start', '--no-block', 'hello']);
      await unplaceable(s, 'hello.service');
      const r = await s.run(['why', 'hello']);
      assert.deepEqual([r.code, r.stderr], [0, '']);
      assert.equal(
        r.stdout,
        `Unit hello.service cannot be placed (desired launched); reasons from the engine's round at ${AT}:\n` +
          '  113f16a7.../127.0.1.1: conflicts with b.service\n' +
          '  2b9e0c41...: metadata region=eu not matched\n' +
          '  3c5d0000...: metadata region=eu not matched\n',
      );
      const json = JSON.parse((await s.run(['--json', 'why', 'hello'])).stdout) as { status: string; reasons: unknown[] };
      assert.equal(json.status, 'unplaced');
      assert.deepEqual(json.reasons[0], { machineId: M1, legend: '113f16a7.../127.0.1.1', reason: 'conflicts with b.service' });
      const full = await s.run(['why', '-l', 'hello']);
      assert.match(full.stdout, new RegExp(`\\n  ${M1}/127\\.0\\.1\\.1: conflicts with b\\.service\\n`));
    });

    it('why: placed, inactive, waiting, global, missing', async () => {
      const s = await fx.space(driver);
      await s.putMachine(M1, '127.0.1.1');
      await s.run(['submit', 'hello', 'other', 'global']);
      const inactive = await s.run(['why', 'hello']);
      assert.deepEqual([inactive.code, inactive.stdout], [0, 'Unit hello.service is inactive: it is not scheduled anywhere (load or start it to place it)\n']);
      await s.run(['start', '--no-block', 'hello', 'other', 'global']);
      const waiting = await s.run(['why', 'other.service']);
      assert.deepEqual(
        [waiting.code, waiting.stdout],
        [0, 'Unit other.service is waiting for a machine (desired launched); the engine has not reported a problem placing it\n'],
      );
      await place(s, 'hello.service', M1);
      const placed = await s.run(['why', 'hello']);
      assert.deepEqual(
        [placed.code, placed.stdout],
        [0, 'Unit hello.service is placed on 113f16a7.../127.0.1.1 (desired launched, current launched, systemd loaded/active/running)\n'],
      );
      const ghash = UnitFile.parse(GLOBAL).hash();
      await fx.raw
        .put(s.keys.state('global.service', M1))
        .value(encode({ unit: 'global.service', machineId: M1, hash: ghash, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }));
      const global = await s.run(['why', 'global']);
      assert.equal(global.stdout, 'Global unit global.service (desired launched) is on 1 machine:\n  113f16a7.../127.0.1.1: systemd loaded/active/running\n');
      const missing = await s.run(['why', 'nope']);
      assert.deepEqual([missing.code, missing.stdout, missing.stderr], [1, '', 'Unit nope.service not found\n']);
    });

    it('a report for older content or a placed unit is not shown', async () => {
      const s = await fx.space(driver);
      await s.run(['start', '--no-block', 'hello']);
      await s.putMachine(M1, '127.0.1.1');
      await fx.raw.put(s.keys.unplaced('hello.service')).value(encode({ unit: 'hello.service', hash: 'f'.repeat(40), reasons: REASONS, at: AT }));
      assert.match((await s.run(['why', 'hello'])).stdout, /is waiting for a machine/);
      await unplaceable(s, 'hello.service');
      const hash = UnitFile.parse(HELLO).hash();
      await fx.raw.put(s.keys.assignment(M1, 'hello.service')).value(encode({ unit: 'hello.service', hash, desired: 'launched' }));
      assert.match((await s.run(['why', 'hello'])).stdout, /is placed on 113f16a7/);
    });

    it('list-unit-files: a reason column on request, fleet\'s columns by default, the reasons in --json', async () => {
      const s = await fx.space(driver);
      await s.run(['start', '--no-block', 'hello', 'other']);
      await unplaceable(s, 'hello.service');
      const dflt = await s.run(['list-unit-files']);
      assert.deepEqual(cells(dflt.stdout)[0], ['UNIT', 'HASH', 'DSTATE', 'STATE', 'TARGET']);
      const r = await s.run(['list-unit-files', '--fields', 'unit,dstate,reason']);
      assert.equal(
        r.stdout,
        'UNIT\t\tDSTATE\t\tREASON\n' +
          'hello.service\tlaunched\t113f16a7.../127.0.1.1: conflicts with b.service; 2b9e0c41..., 3c5d0000...: metadata region=eu not matched\n' +
          'other.service\tlaunched\t-\n',
      );
      const json = JSON.parse((await s.run(['--json', 'list-unit-files', '--fields', 'unit,reason'])).stdout) as unknown;
      assert.deepEqual(json, [
        { unit: 'hello.service', reason: REASONS },
        { unit: 'other.service', reason: null },
      ]);
    });

    it('start --block-attempts fails with the reasons in the timeout message', async () => {
      const s = await fx.space(driver);
      await s.run(['submit', 'hello']);
      await unplaceable(s, 'hello.service', { '*': 'no machine is live' });
      const r = await s.run(['start', '--block-attempts=1', 'hello']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        'Error waiting for unit states, exit status: timed out waiting for unit hello.service to report state launched: no machine can take it (no machine is live)\n',
      );
    });

    it('start without a limit says why once, and keeps waiting until the unit is placed', async () => {
      const s = await fx.space(driver);
      await s.run(['submit', 'hello']);
      await unplaceable(s, 'hello.service');
      const start = s.spawn(['start', 'hello']);
      await waitFor('the reason on stderr', () => (start.stderr().includes('\n') ? true : undefined), { timeoutMs: 10_000 });
      // Another report (a later round) must not repeat the notice.
      await fx.raw.put(s.keys.unplaced('hello.service')).value(encode({ unit: 'hello.service', hash: UnitFile.parse(HELLO).hash(), reasons: REASONS, at: AT }));
      await place(s, 'hello.service', M2);
      const r = await start.done;
      assert.equal(r.code, 0);
      assert.equal(
        r.stderr,
        'Unit hello.service cannot be placed yet (113f16a7.../127.0.1.1: conflicts with b.service; 2b9e0c41..., 3c5d0000...: metadata region=eu not matched); ' +
          'still waiting, see flotctl why hello.service\n',
      );
      assert.equal(r.stdout, 'Unit hello.service launched on 2b9e0c41...\n');
    });
  }));
});
