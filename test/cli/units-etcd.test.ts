/**
 * Creating units through the built flotctl against a real etcd: templates
 * and their instances (fleet §1.4), and what submit refuses (§2.6 and
 * circular Replaces=). No engine runs; nothing here needs one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UnitFile } from '../../src/unit/index.js';
import { cells } from './support/run.js';
import { EtcdFixture, type Space, forEachDriver } from './support/etcd-space.js';

const TEMPLATE = '[Unit]\nDescription=web %i\n\n[Service]\nExecStart=/bin/echo %i\n';
const LOCAL_INSTANCE = '[Unit]\nDescription=web one, by hand\n\n[Service]\nExecStart=/bin/echo one\n';
const DB_TEMPLATE = '[Service]\nExecStart=/bin/sleep %i\n\n[X-Fleet]\nConflicts=db@*.service\n';
const OTHER_TEMPLATE = '[Unit]\nDescription=web, edited locally\n\n[Service]\nExecStart=/bin/echo other %i\n';
const replacing = (target: string, extra = ''): string => `[Service]\nExecStart=/bin/sleep 100\n\n[X-Fleet]\nReplaces=${target}\n${extra}`;

const hash = (text: string): string => UnitFile.parse(text).hash();

describe('templates and instances', () => {
  let fx: EtcdFixture;
  let empty: string;

  before(async () => {
    fx = await EtcdFixture.start({
      'web@.service': TEMPLATE,
      'web@1.service': LOCAL_INSTANCE,
      'sub/db@.service': DB_TEMPLATE,
      'edited/web@.service': OTHER_TEMPLATE,
    });
    empty = await mkdtemp(join(tmpdir(), 'flotctl-empty-'));
  });
  after(async () => {
    await fx.stop();
    await rm(empty, { recursive: true, force: true });
  });

  const hashes = async (run: Space['run']): Promise<string[][]> =>
    cells((await run(['list-unit-files', '--full', '--no-legend', '--fields', 'unit,hash'])).stdout);

  forEachDriver((driver) => describe(driver, () => {
    it('an instance comes from a local file of its own name first', async () => {
      const { run } = await fx.space(driver);
      const r = await run(['submit', 'web@1']);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Unit web@1.service inactive\n', '']);
      assert.equal((await run(['cat', 'web@1.service'])).stdout, UnitFile.parse(LOCAL_INSTANCE).serialize());
    });

    it('else from the template in the registry, verbatim: same content, same hash', async () => {
      const { run } = await fx.space(driver);
      assert.equal((await run(['submit', 'web@.service'])).code, 0);
      // From a directory without unit files, so only the registry can supply it.
      const r = await run(['submit', 'web@7', 'web@8.service'], { cwd: empty });
      assert.deepEqual([r.code, r.stderr], [0, '']);
      assert.deepEqual(await hashes(run), [
        ['web@.service', hash(TEMPLATE)],
        ['web@7.service', hash(TEMPLATE)],
        ['web@8.service', hash(TEMPLATE)],
      ]);
      assert.equal((await run(['cat', 'web@7'])).stdout, UnitFile.parse(TEMPLATE).serialize());
    });

    it('the registry template wins over a local template next to the argument, with a warning', async () => {
      const { run } = await fx.space(driver);
      await run(['submit', 'web@.service']);
      const r = await run(['submit', 'edited/web@3']);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, 'WARNING: Unit web@.service in registry differs from local template unit file edited/web@.service. Add --replace to override.\n');
      assert.deepEqual((await hashes(run))[1], ['web@3.service', hash(TEMPLATE)]);
    });

    it('else from a local template file next to the argument', async () => {
      const { run } = await fx.space(driver);
      const r = await run(['submit', join(fx.dir, 'sub', 'db@5'), 'sub/db@6.service']);
      assert.deepEqual([r.code, r.stdout], [0, 'Unit db@5.service inactive\nUnit db@6.service inactive\n']);
      assert.deepEqual(await hashes(run), [
        ['db@5.service', hash(DB_TEMPLATE)],
        ['db@6.service', hash(DB_TEMPLATE)],
      ]);
    });

    it('no source at all names the template it looked for', async () => {
      const { run, count } = await fx.space(driver);
      const r = await run(['start', 'cache@1'], { cwd: empty });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        'Error creating units: failed getting Unit(cache@1.service) from template: unable to find template Unit(cache@.service) in Registry or on filesystem\n',
      );
      assert.equal(await count(), 0);
    });

    it('a template can be submitted but never loaded or started; nothing is written', async () => {
      const { run, count, keys } = await fx.space(driver);
      for (const [cmd, verb] of [['start', 'starting'], ['load', 'loading']] as const) {
        const r = await run([cmd, 'web@.service', 'web@2']);
        assert.equal(r.code, 1);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `Error ${verb} units: cannot activate template "web@.service": ${cmd} an instance of it instead, e.g. web@1.service\n`);
        assert.equal(await count(), 0);
      }
      assert.equal((await run(['submit', 'web@.service'])).code, 0);
      const again = await run(['start', '--no-block', 'web@.service']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error starting units: cannot activate template "web@\.service": [^\n]+\n$/);
      const files = cells((await run(['list-unit-files', '--no-legend', '--fields', 'unit,dstate'])).stdout);
      assert.deepEqual(files, [['web@.service', 'inactive']]);
      assert.equal(await count(keys.unitsPrefix), 1);
    });

    it('an instance can be started from the template (no engine here: --no-block)', async () => {
      const { run } = await fx.space(driver);
      await run(['submit', 'web@.service']);
      const r = await run(['start', '--no-block', 'web@9'], { cwd: empty });
      assert.deepEqual([r.code, r.stdout], [0, 'Unit web@9.service inactive\nTriggered unit web@9.service start\n']);
      const files = cells((await run(['list-unit-files', '--no-legend', '--fields', 'unit,hash,dstate'])).stdout);
      assert.deepEqual(files[1], ['web@9.service', hash(TEMPLATE).slice(0, 7), 'launched']);
    });
  }));
});

describe('what submit refuses', () => {
  let fx: EtcdFixture;

  before(async () => {
    fx = await EtcdFixture.start({
      'a.service': replacing('b.service'),
      'b.service': replacing('a.service'),
      'c.service': replacing('a*.service'),
      'd.service': replacing('c.service'),
      'e.service': replacing('d.service'),
      'x.service': replacing('y.service'),
      'y.service': replacing('z.service'),
      'z.service': replacing('x.service'),
      'unknown.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetaData=region=us\n',
      'mixed.service': replacing('a.service', 'Conflicts=b.service\n'),
      'peer.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=db.service\nConflicts=d*.service\n',
      'swallow.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=false \\ \nConflicts=db*.service\n',
      'many.service': `[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${Array.from({ length: 65 }, (_, i) => `Conflicts=c${i}.service`).join('\n')}\n`,
      'huge.service': `[Service]\nExecStart=/bin/true\n${'#'.repeat(256 * 1024)}\n`,
    });
    // "café" in Latin-1: not UTF-8.
    await writeFile(join(fx.dir, 'latin1.service'), Buffer.concat([Buffer.from('[Unit]\nDescription=caf'), Buffer.from([0xe9]), Buffer.from('\n[Service]\nExecStart=/bin/true\n')]));
  });
  after(async () => {
    await fx.stop();
  });

  forEachDriver((driver) => describe(driver, () => {
    it('a circular Replaces= within one command: one line naming both units, nothing written', async () => {
      const { run, count } = await fx.space(driver);
      const r = await run(['submit', 'a', 'b']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'Error creating units: unit a.service replaces b.service, which replaces a.service: remove one of the Replaces= lines\n');
      assert.equal(await count(), 0);
    });

    it('a circular Replaces= with a unit already in the cluster, also through globs and longer chains', async () => {
      const { run, count, keys } = await fx.space(driver);
      assert.equal((await run(['submit', 'a'])).code, 0);
      const b = await run(['start', 'b']);
      assert.equal(b.code, 1);
      assert.equal(b.stderr, 'Error creating units: unit b.service replaces a.service, which replaces b.service: remove one of the Replaces= lines\n');
      // a -> b is not a cycle until b exists; c -> a, d -> c and e -> d are one-way.
      assert.equal((await run(['submit', 'c', 'd', 'e'])).code, 0);
      assert.equal(await count(keys.unitsPrefix), 4);
    });

    it('longer cycles are named in full', async () => {
      const { run, count, keys } = await fx.space(driver);
      // x -> y and y -> z are one-way until z exists.
      assert.equal((await run(['submit', 'x', 'y'])).code, 0);
      const z = await run(['submit', 'z']);
      assert.equal(z.code, 1);
      assert.equal(
        z.stderr,
        'Error creating units: unit z.service replaces x.service, which replaces y.service, which replaces z.service: remove one of the Replaces= lines\n',
      );
      assert.equal(await count(keys.unitsPrefix), 2);
    });

    it('unknown [X-Fleet] keys warn but the unit is created', async () => {
      const { run } = await fx.space(driver);
      const r = await run(['submit', 'unknown']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'Unit unknown.service inactive\n');
      assert.equal(r.stderr, 'WARNING: Unit unknown.service: unrecognized requirement in [X-Fleet] section: "MachineMetaData"\n');
    });

    it('what the cluster could not store or run faithfully, or over a limit: one line each, nothing written', async () => {
      const { run, count } = await fx.space(driver);
      const cases: Array<[string, string]> = [
        ['swallow', 'Error creating units: Unit swallow.service: [X-Fleet] Global=: the value ends in a backslash, which the stored copy would read as a line continuation, swallowing the next line; remove the backslash (or the space after it)'],
        ['latin1', 'Error creating units: failed getting Unit(latin1.service) from file: latin1.service: not valid UTF-8 (line 2, byte 23): save the file as UTF-8'],
        ['many', 'Error creating units: Unit many.service: [X-Fleet] Conflicts has 65 values; the limit is 64: use a glob that covers several units, or split the unit'],
        ['huge', 'Error creating units: failed getting Unit(huge.service) from file: huge.service: unit file is 257 KiB; the limit is 256 KiB: move scripts and data into files the unit runs or reads'],
      ];
      for (const [name, message] of cases) {
        const r = await run(['submit', name]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `${message}\n`], name);
      }
      assert.equal(await count(), 0);
    });

    it('fleet\'s option rules, one line each, nothing written', async () => {
      const { run, count } = await fx.space(driver);
      const mixed = await run(['submit', 'mixed']);
      assert.deepEqual([mixed.code, mixed.stderr], [1, 'Error creating units: Unit mixed.service: Conflicts cannot be used with Replaces\n']);
      const peer = await run(['load', 'peer']);
      assert.deepEqual([peer.code, peer.stderr], [1, 'Error creating units: Unit peer.service: unresolvable requirements: peer "db.service" matches conflict "d*.service"\n']);
      assert.equal(await count(), 0);
    });
  }));
});
