/**
 * flotctl round trips through the built binary against a real etcd, once
 * per driver (etcd, and api over the same prefix). No engine or agent runs:
 * where a test needs machines, assignments or unit states it writes those
 * records itself, as the daemons would.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { cells } from './support/run.js';
import { EtcdFixture, forEachDriver } from './support/etcd-space.js';

const HELLO = '[Unit]\nDescription=Hello World\n\n[Service]\n# a comment\nExecStart=/bin/sh -c "while true; do echo hi; sleep 1; done"\n';
const HELLO2 = '[Unit]\nDescription=Hello again\n\n[Service]\nExecStart=/bin/sleep 300\n';
const TEMPLATE = '[Unit]\nDescription=web %i\n\n[Service]\nExecStart=/bin/echo %i\n';
const GLOBAL = '[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nGlobal=true\n';
const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const M2 = '2b9e0c41aa5e4c7f9a1d0c2b3e4f5a6b';

describe('flotctl against etcd', () => {
  let fx: EtcdFixture;

  before(async () => {
    fx = await EtcdFixture.start({
      'hello.service': HELLO,
      'web@.service': TEMPLATE,
      'global.service': GLOBAL,
      'bad.service': '[Service]\nExecStart=/bin/true\nthis line has no equals sign\n',
    });
  });

  after(async () => {
    await fx.stop();
  });

  forEachDriver((driver) => describe(driver, () => {
    it('submit, cat, list-unit-files, destroy', async () => {
      const { run } = await fx.space(driver);
      const submit = await run(['submit', 'hello']);
      assert.deepEqual([submit.code, submit.stdout, submit.stderr], [0, 'Unit hello.service inactive\n', '']);

      const cat = await run(['cat', 'hello']);
      assert.equal(cat.code, 0);
      assert.equal(cat.stdout, UnitFile.parse(HELLO).serialize());

      const hash = UnitFile.parse(HELLO).hash();
      const list = await run(['list-unit-files']);
      assert.equal(list.code, 0);
      assert.deepEqual(cells(list.stdout), [
        ['UNIT', 'HASH', 'DSTATE', 'STATE', 'TARGET'],
        ['hello.service', hash.slice(0, 7), 'inactive', 'inactive', '-'],
      ]);
      const full = await run(['list-unit-files', '--full', '--no-legend', '--fields', 'unit,hash,global,desc']);
      assert.equal(full.stdout, `hello.service\t${hash}\tfalse\tHello World\n`);

      const destroy = await run(['destroy', 'hello']);
      assert.deepEqual([destroy.code, destroy.stdout], [0, 'Destroyed hello.service\n']);
      const again = await run(['destroy', 'hello']);
      assert.deepEqual([again.code, again.stderr], [0, 'Units not found in registry\n']);
      const gone = await run(['cat', 'hello']);
      assert.deepEqual([gone.code, gone.stderr], [1, 'Unit hello.service not found\n']);
    });

    it('--replace follows the desired-state rules', async () => {
      const { run } = await fx.space(driver);
      await run(['submit', 'hello']);
      await writeFile(join(fx.dir, 'hello.service'), HELLO2);
      try {
        const warn = await run(['submit', 'hello']);
        assert.equal(warn.code, 0);
        assert.equal(warn.stderr, 'WARNING: Unit hello.service in registry differs from local unit file hello.service. Add --replace to override.\n');

        const replaced = await run(['submit', '--replace', 'hello']);
        assert.equal(replaced.code, 0);
        assert.equal((await run(['cat', 'hello'])).stdout, UnitFile.parse(HELLO2).serialize());

        const same = await run(['submit', '--replace', 'hello']);
        assert.equal(same.stdout, 'Found same Unit(hello.service) in Registry, nothing to do\n');

        await run(['load', '--no-block', 'hello']);
        await writeFile(join(fx.dir, 'hello.service'), HELLO);
        const refused = await run(['submit', '--replace', 'hello']);
        assert.equal(refused.code, 0);
        assert.equal(refused.stderr, "Warning: can not replace Unit(hello.service) in state 'loaded', use the appropriate command\n");
        assert.equal((await run(['cat', 'hello'])).stdout, UnitFile.parse(HELLO2).serialize());
      } finally {
        await writeFile(join(fx.dir, 'hello.service'), HELLO);
      }
    });

    it('template instances come from the registry template or the local one, verbatim', async () => {
      const { run } = await fx.space(driver);
      const local = await run(['submit', 'web@1']);
      assert.equal(local.code, 0);
      assert.equal((await run(['cat', 'web@1'])).stdout, UnitFile.parse(TEMPLATE).serialize());

      await run(['submit', 'web@.service']);
      const fromRegistry = await run(['submit', 'web@2.service']);
      assert.equal(fromRegistry.code, 0);
      const rows = cells((await run(['list-unit-files', '--no-legend', '--fields', 'unit,hash'])).stdout);
      const hash = UnitFile.parse(TEMPLATE).hash().slice(0, 7);
      assert.deepEqual(rows, [['web@.service', hash], ['web@1.service', hash], ['web@2.service', hash]]);

      const missing = await run(['submit', 'db@1']);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        'Error creating units: failed getting Unit(db@1.service) from template: unable to find template Unit(db@.service) in Registry or on filesystem\n',
      );
      const template = await run(['start', '--no-block', 'web@.service']);
      assert.equal(template.code, 1);
      assert.equal(template.stderr, 'Error starting units: cannot activate template "web@.service": start an instance of it instead, e.g. web@1.service\n');
    });

    it('a malformed unit file fails with its name and line, and nothing is written', async () => {
      const { run, count } = await fx.space(driver);
      const r = await run(['submit', 'hello', 'bad']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error creating units: failed getting Unit\(bad\.service\) from file: unit file line 3: [^\n]+\n$/);
      assert.equal(await count(), 0);
      const name = await run(['submit', 'bad name!']);
      assert.equal(name.code, 1);
      assert.match(name.stderr, /invalid character ' ' in unit name/);
      assert.equal(await count(), 0);
    });

    it('start --no-block prints the Triggered line once; global units are triggered as global', async () => {
      const { run } = await fx.space(driver);
      const r = await run(['start', '--no-block', 'hello', 'global']);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        'Unit hello.service inactive\nUnit global.service inactive\nTriggered global unit global.service start\nTriggered unit hello.service start\n',
      );
      const again = await run(['start', '--no-block', 'hello']);
      assert.deepEqual([again.code, again.stdout], [0, '']);
      const files = cells((await run(['list-unit-files', '--no-legend'])).stdout);
      assert.deepEqual(files.map((c) => [c[0], c[2], c[3], c[4]]), [
        ['global.service', 'launched', '-', 'global'],
        ['hello.service', 'launched', 'inactive', '-'],
      ]);
    });

    it('a timed-out wait exits 1 with fleet\'s message', async () => {
      const { run } = await fx.space(driver);
      const r = await run(['load', '--block-attempts', '1', 'hello']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'Unit hello.service inactive\n');
      assert.equal(r.stderr, 'Error waiting for unit states, exit status: timed out waiting for unit hello.service to report state loaded\n');
    });

    it('list-units, list-unit-files and list-machines render what the daemons wrote', async () => {
      const { run, keys } = await fx.space(driver);
      await run(['start', '--no-block', 'hello', 'global']);
      const hash = UnitFile.parse(HELLO).hash();
      await fx.raw.put(keys.machine(M1)).value(encode({ id: M1, publicIP: '127.0.1.1', metadata: { region: 'us', az: 'b' }, version: '0.1.0' }));
      await fx.raw.put(keys.machine(M2)).value(encode({ id: M2, publicIP: '', metadata: {}, version: '0.1.0' }));
      await fx.raw.put(keys.assignment(M1, 'hello.service')).value(encode({ unit: 'hello.service', hash, desired: 'launched' }));
      const state = (unit: string, m: string, h: string, active: string, sub: string) =>
        fx.raw.put(keys.state(unit, m)).value(encode({ unit, machineId: m, hash: h, load: 'loaded', active, sub, applied: 'launched' }));
      await state('hello.service', M1, hash, 'active', 'running');
      const ghash = UnitFile.parse(GLOBAL).hash();
      await state('global.service', M1, ghash, 'active', 'running');
      await state('global.service', M2, ghash, 'failed', 'failed');

      const units = await run(['list-units']);
      assert.equal(units.code, 0);
      assert.equal(
        units.stdout,
        'UNIT\t\tMACHINE\t\t\tACTIVE\tSUB\n' +
          'global.service\t113f16a7.../127.0.1.1\tactive\trunning\n' +
          'global.service\t2b9e0c41...\t\tfailed\tfailed\n' +
          'hello.service\t113f16a7.../127.0.1.1\tactive\trunning\n',
      );
      const full = await run(['list-units', '-l', '--no-legend', '--fields', 'unit,machine,hash,load']);
      assert.deepEqual(cells(full.stdout)[2], ['hello.service', `${M1}/127.0.1.1`, hash, 'loaded']);

      const files = cells((await run(['list-unit-files', '--no-legend'])).stdout);
      assert.deepEqual(files[1], ['hello.service', hash.slice(0, 7), 'launched', 'launched', '113f16a7.../127.0.1.1']);

      const machines = await run(['list-machines']);
      assert.deepEqual(cells(machines.stdout), [
        ['MACHINE', 'IP', 'METADATA'],
        ['113f16a7...', '127.0.1.1', 'az=b,region=us'],
        ['2b9e0c41...', '-', '-'],
      ]);

      const json = await run(['--json', 'list-units', '--fields', 'unit,machine,active']);
      assert.deepEqual(JSON.parse(json.stdout), [
        { unit: 'global.service', machine: M1, active: 'active' },
        { unit: 'global.service', machine: M2, active: 'failed' },
        { unit: 'hello.service', machine: M1, active: 'active' },
      ]);
      const jm = await run(['list-machines', '--json']);
      assert.deepEqual(JSON.parse(jm.stdout)[0], { machine: M1, ip: '127.0.1.1', metadata: { region: 'us', az: 'b' } });
    });

    it('list-units and why show what an agent could not carry out, and records that do not decode are left out', async () => {
      const { run, keys } = await fx.space(driver);
      await run(['start', '--no-block', 'hello']);
      const hash = UnitFile.parse(HELLO).hash();
      await fx.raw.put(keys.machine(M1)).value(encode({ id: M1, publicIP: '127.0.1.1', metadata: {}, version: '0.1.0' }));
      await fx.raw.put(keys.assignment(M1, 'hello.service')).value(encode({ unit: 'hello.service', hash, desired: 'launched' }));
      const failure = 'cannot write its unit file: ENOSPC: no space left on device';
      await fx.raw.put(keys.state('hello.service', M1)).value(encode({ unit: 'hello.service', machineId: M1, hash, load: 'not-found', active: 'inactive', sub: 'dead', applied: 'launched', failure }));
      // Garbage a reader must skip: a state naming a path, and one published under another unit's key.
      await fx.raw.put(keys.state('evil.service', M1)).value(encode({ unit: '../../evil.service', machineId: M1, hash, load: 'l', active: 'a', sub: 's', applied: 'launched' }));
      await fx.raw.put(keys.state('other.service', M1)).value(encode({ unit: 'hello.service', machineId: M1, hash, load: 'l', active: 'a', sub: 's', applied: 'launched' }));

      const units = await run(['list-units', '--no-legend']);
      assert.equal(units.code, 0, units.stderr);
      assert.deepEqual(cells(units.stdout), [['hello.service', '113f16a7.../127.0.1.1', 'failed', 'dead']]);
      assert.equal((await run(['list-units', '--no-legend', '--fields', 'unit,active,failure'])).stdout, `hello.service\tfailed\t${failure}\n`);
      assert.deepEqual(JSON.parse((await run(['--json', 'list-units'])).stdout), [
        { unit: 'hello.service', machine: M1, active: 'failed', sub: 'dead', failure },
      ]);

      const why = await run(['why', 'hello']);
      assert.equal(why.code, 0, why.stderr);
      assert.equal(why.stdout, `Unit hello.service is placed on 113f16a7.../127.0.1.1 but failed there: ${failure} (desired launched, current launched, systemd not-found/inactive/dead)\n`);
      const whyJson = JSON.parse((await run(['--json', 'why', 'hello'])).stdout) as { machines: Array<{ failure?: string }> };
      assert.equal(whyJson.machines[0]?.failure, failure);
    });

    it('stop refuses an unloaded unit; stop/unload --no-block trigger', async () => {
      const { run } = await fx.space(driver);
      await run(['submit', 'hello']);
      const refused = await run(['stop', 'hello']);
      assert.deepEqual([refused.code, refused.stderr], [1, 'Unable to stop unit hello.service in state inactive\n']);
      await run(['start', '--no-block', 'hello']);
      const stop = await run(['stop', '--no-block', 'hello']);
      assert.deepEqual([stop.code, stop.stdout, stop.stderr], [0, 'Triggered unit hello.service stop\n', 'Successfully stopped units [hello.service].\n']);
      const unload = await run(['unload', '--no-block', 'hello']);
      assert.deepEqual([unload.code, unload.stdout, unload.stderr], [0, 'Triggered unit hello.service unload\n', 'Successfully unloaded units [hello.service].\n']);
    });

    it('list-units of 10,000 units lists every one, sorted', async () => {
      const { run, keys } = await fx.space(driver);
      await fx.raw.put(keys.machine(M1)).value(encode({ id: M1, publicIP: '127.0.1.1', metadata: {}, version: '0.1.0' }));
      for (let b = 0; b < 100; b++) {
        const txn = fx.raw.if(keys.machine(M1), 'Create', '>', 0);
        const puts = [];
        for (let j = 0; j < 100; j++) {
          const unit = `u${String(b * 100 + j).padStart(5, '0')}.service`;
          puts.push(fx.raw.put(keys.state(unit, M1)).value(encode({ unit, machineId: M1, hash: 'a'.repeat(40), load: 'loaded', active: 'active', sub: 'running', applied: 'launched' })));
        }
        await txn.then(...puts).commit();
      }
      const r = await run(['list-units', '--no-legend']);
      assert.equal(r.code, 0);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 10_000);
      assert.equal(lines[0], 'u00000.service\t113f16a7.../127.0.1.1\tactive\trunning');
      // Its speed (target 1 s end to end) is a benchmark's to measure, against a same-run baseline: never a timed assertion.
    });
  }));
});
