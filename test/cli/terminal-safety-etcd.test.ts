/**
 * Store data carrying terminal control characters, through the built flotctl
 * against a real etcd: tables and lines show them escaped, `--json` and `cat`
 * (to a pipe) keep the exact text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { EtcdFixture, forEachDriver } from './support/etcd-space.js';

// Clear the screen, set the window title, ring the bell, and reverse the rest with a bidi override.
const DESC = 'Hello \u001b[2J\u001b]0;owned\u0007 world \u202egnp.exe';
const SHOWN = 'Hello \\x1b[2J\\x1b]0;owned\\x07 world \\u202egnp.exe';
const EVIL = `[Unit]\nDescription=${DESC}\n\n[Service]\nExecStart=/bin/sleep 100\n`;
const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('store data with terminal control characters', () => {
  let fx: EtcdFixture;
  before(async () => {
    fx = await EtcdFixture.start({ 'evil.service': EVIL });
  });
  after(async () => {
    await fx.stop();
  });

  forEachDriver((driver) => describe(driver, () => {
    it('tables and lines print it escaped; --json and cat to a pipe keep it exact', async () => {
      const s = await fx.space(driver);
      const start = await s.run(['start', '--no-block', 'evil']);
      assert.equal(start.code, 0, start.stderr);
      await s.putMachine(M1, '127.0.1.1', { region: 'us\u001b[31m' });
      const reasons = { [M1]: 'busy\u001b[1A\r' };
      await fx.raw.put(s.keys.unplaced('evil.service')).value(encode({ unit: 'evil.service', hash: UnitFile.parse(EVIL).hash(), reasons, at: '2024-05-01T10:00:00.000Z' }));

      const files = await s.run(['list-unit-files', '--no-legend', '--fields', 'unit,desc']);
      assert.equal(files.stdout, `evil.service\t${SHOWN}\n`);
      const machines = await s.run(['list-machines', '--no-legend', '--fields', 'ip,metadata']);
      assert.equal(machines.stdout, '127.0.1.1\tregion=us\\x1b[31m\n');
      const why = await s.run(['why', 'evil']);
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /: busy\\x1b\[1A\\x0d\n/);
      for (const r of [files, machines, why]) assert.doesNotMatch(r.stdout + r.stderr, CONTROL);

      const json = await s.run(['--json', 'list-unit-files', '--fields', 'unit,desc']);
      assert.deepEqual(JSON.parse(json.stdout), [{ unit: 'evil.service', desc: DESC }]);
      assert.doesNotMatch(json.stdout, CONTROL, 'control characters are \\u escapes in the JSON text');
      const jm = await s.run(['--json', 'list-machines']);
      assert.deepEqual((JSON.parse(jm.stdout) as Array<{ metadata: unknown }>)[0]?.metadata, { region: 'us\u001b[31m' });

      const cat = await s.run(['cat', 'evil']);
      assert.deepEqual([cat.code, cat.stderr], [0, '']);
      assert.equal(cat.stdout, UnitFile.parse(EVIL).serialize(), 'cat to a pipe is byte-exact');
      assert.ok(cat.stdout.includes(DESC));
    });
  }));
});
