/**
 * set-metadata and list-machines through the built flotctl against a real
 * etcd. Machine records are written by the test, standing in for agents
 * registering (no flotillad runs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cells } from './support/run.js';
import { EtcdFixture, forEachDriver } from './support/etcd-space.js';

const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const M2 = '11aa0c41aa5e4c7f9a1d0c2b3e4f5a6b';
const AWAY = '9f00000000000000000000000000000a';

describe('set-metadata', () => {
  let fx: EtcdFixture;
  before(async () => {
    fx = await EtcdFixture.start({});
  });
  after(async () => {
    await fx.stop();
  });

  forEachDriver((driver) => describe(driver, () => {
    it('sets and overrides metadata; list-machines shows config and dynamic metadata merged', async () => {
      const s = await fx.space(driver);
      await s.putMachine(M1, '127.0.1.1', { region: 'us', az: 'b' });
      await s.putMachine(M2, '', {});
      const r = await s.run(['set-metadata', '113f', 'disk=ssd', 'region=eu']);
      assert.deepEqual([r.code, r.stderr], [0, '']);
      assert.equal(r.stdout, 'Set metadata disk=ssd on machine 113f16a7...\nSet metadata region=eu on machine 113f16a7...\n');
      const list = await s.run(['list-machines']);
      assert.deepEqual(cells(list.stdout), [
        ['MACHINE', 'IP', 'METADATA'],
        ['113f16a7...', '127.0.1.1', 'az=b,disk=ssd,region=eu'],
        ['11aa0c41...', '-', '-'],
      ]);
      // The legend list-machines prints is accepted as the machine.
      assert.equal((await s.run(['set-metadata', '11aa0c41...', 'rack=r1'])).code, 0);
      const json = JSON.parse((await s.run(['--json', 'list-machines', '--fields', 'machine,metadata'])).stdout) as unknown;
      assert.deepEqual(json, [
        { machine: M1, metadata: { region: 'eu', az: 'b', disk: 'ssd' } },
        { machine: M2, metadata: { rack: 'r1' } },
      ]);
    });

    it('--remove writes the tombstone, which hides the config value too', async () => {
      const s = await fx.space(driver);
      await s.putMachine(M1, '127.0.1.1', { region: 'us', az: 'b' });
      await s.run(['set-metadata', M1, 'disk=ssd']);
      const r = await s.run(['set-metadata', '--remove', 'az', '--remove', 'disk', M1]);
      assert.deepEqual([r.code, r.stdout], [0, 'Removed metadata az from machine 113f16a7...\nRemoved metadata disk from machine 113f16a7...\n']);
      assert.equal(await fx.raw.get(s.keys.machineMetadata(M1, 'az')).string(), '');
      assert.deepEqual(cells((await s.run(['list-machines', '--no-legend'])).stdout), [['113f16a7...', '127.0.1.1', 'region=us']]);
      // Sets and removals mix in one command; setting again revives a removed key.
      const mixed = await s.run(['set-metadata', '113f16a7', 'az=c', '--remove', 'region']);
      assert.equal(mixed.code, 0);
      assert.deepEqual(cells((await s.run(['list-machines', '--no-legend'])).stdout), [['113f16a7...', '127.0.1.1', 'az=c']]);
    });

    it('a machine that is away can be given metadata by full id; it applies when it joins', async () => {
      const s = await fx.space(driver);
      const r = await s.run(['set-metadata', AWAY, 'role=db']);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, `WARNING: machine ${AWAY} is not in the cluster now; its metadata applies when it joins\n`);
      assert.equal((await s.run(['list-machines', '--no-legend'])).stdout, '');
      await s.putMachine(AWAY, '127.0.1.9', { role: 'web', zone: 'z1' });
      assert.deepEqual(cells((await s.run(['list-machines', '--no-legend'])).stdout), [['9f000000...', '127.0.1.9', 'role=db,zone=z1']]);
    });

    it('bad input: one line naming the thing and the fix, non-zero, nothing written', async () => {
      const s = await fx.space(driver);
      await s.putMachine(M1, '127.0.1.1');
      await s.putMachine(M2, '');
      const cases: Array<[string[], number, string]> = [
        [['set-metadata', '11', 'a=b'], 1, 'machine "11" matches 2 machines (113f16a7..., 11aa0c41...): give more of its id'],
        [['set-metadata', '22', 'a=b'], 1, 'no machine in the cluster has an id starting with "22": see flotctl list-machines, or give the full 32-character id'],
        [['set-metadata', 'host1', 'a=b'], 1, 'invalid machine "host1": give a machine id or a unique prefix of one, as flotctl list-machines shows'],
        [['set-metadata', '113f', 'a b=c'], 1, 'invalid metadata key "a b": use only letters, digits, "_", "." and "-"'],
        [['set-metadata', '113f', 'ok=1', 'disk='], 1, 'metadata value for key "disk" is empty: give disk=VALUE, or --remove disk to remove the key'],
        [['set-metadata', '113f', 'disk'], 1, 'invalid metadata "disk": use KEY=VALUE to set a key, or --remove KEY to remove one'],
        [['set-metadata', '113f', 'a=1', 'a=2'], 1, 'metadata key "a" is given twice: keep one a=VALUE'],
        [['set-metadata', '113f', 'a=1', '--remove', 'a'], 1, 'metadata key "a" is both set and removed: keep one of the two'],
        [['set-metadata', '113f', 'v=x,y'], 1, 'metadata value "x,y" for key "v" contains ",": values cannot contain "=", ",", \'"\' or control characters'],
        [['set-metadata', '113f'], 1, 'no metadata change given: give KEY=VALUE to set a key or --remove KEY to remove one'],
        [['set-metadata'], 2, 'flotctl: set-metadata needs a machine: flotctl set-metadata MACHINE KEY=VALUE... or flotctl set-metadata --remove KEY MACHINE'],
        [['set-metadata', 'a=b', '113f'], 2, 'flotctl: the machine comes before the metadata: flotctl set-metadata MACHINE KEY=VALUE... or flotctl set-metadata --remove KEY MACHINE'],
        [['set-metadata', '--remove'], 2, "flotctl: option '--remove <key>' argument missing; run 'flotctl help set-metadata' for usage"],
      ];
      for (const [args, code, line] of cases) {
        const r = await s.run(args);
        assert.deepEqual([r.code, r.stdout, r.stderr], [code, '', `${line}\n`], args.join(' '));
      }
      assert.equal(await s.count(s.keys.metadataPrefix), 0);
    });

    it('help shows how to set and remove', async () => {
      const r = await (await fx.space(driver)).run(['help', 'set-metadata']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /flotctl set-metadata 113f16a7 disk=ssd rack=r12/);
      assert.match(r.stdout, /flotctl set-metadata --remove rack 113f16a7/);
    });
  }));
});
