/** lazyCreateUnits (submit/load/start's unit creation) against the in-memory client. */
import { exitCodeOf } from '../../src/util/exit-codes.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lazyCreateUnits, operationContext, submitUnits, type CreateOptions } from '../../src/client/operations/index.js';
import { FlotillaError } from '../../src/util/errors.js';
import { MemoryClient, MemorySink, memoryFiles } from './support/memory-client.js';

const HELLO = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n';
const HELLO2 = '[Unit]\nDescription=Hello v2\n\n[Service]\nExecStart=/bin/sleep 200\n';
const WEB_TEMPLATE = '[Service]\nExecStart=/bin/echo %i\n';

function setup(files: Record<string, string> = {}) {
  const client = new MemoryClient();
  const sink = new MemorySink();
  const ctx = operationContext(client, sink, { files: memoryFiles(files), attemptMs: 50, recheckMs: 1000 });
  return { client, sink, ctx };
}

async function create(ctx: ReturnType<typeof setup>['ctx'], args: string[], opts: Partial<CreateOptions> = {}) {
  return lazyCreateUnits(ctx, args, { command: 'submit', ...opts });
}

describe('lazyCreateUnits', () => {
  it('creates a unit from a local file, mangling the name, and reports it inactive', async () => {
    const { client, sink, ctx } = setup({ 'units/hello.service': HELLO });
    assert.deepEqual(await create(ctx, ['units/hello']), ['hello.service']);
    assert.deepEqual(client.writes, ['create hello.service']);
    assert.equal(client.units.get('hello.service')?.desired, 'inactive');
    assert.deepEqual(sink.lines, ['out: Unit hello.service inactive']);
  });

  it('leaves an existing identical unit alone, silently without --replace', async () => {
    const { client, sink, ctx } = setup({ 'hello.service': HELLO });
    client.seed('hello.service', HELLO, 'launched');
    await create(ctx, ['hello.service']);
    assert.deepEqual(client.writes, []);
    assert.deepEqual(sink.lines, []);
  });

  it('warns when the registry copy differs and --replace is not given', async () => {
    const { client, sink, ctx } = setup({ 'hello.service': HELLO2 });
    client.seed('hello.service', HELLO);
    await create(ctx, ['hello.service']);
    assert.deepEqual(client.writes, []);
    assert.deepEqual(sink.errLines, [
      'WARNING: Unit hello.service in registry differs from local unit file hello.service. Add --replace to override.',
    ]);
  });

  it('--replace with identical content does nothing and says so', async () => {
    const { client, sink, ctx } = setup({ 'hello.service': HELLO });
    client.seed('hello.service', HELLO);
    await create(ctx, ['hello.service'], { replace: true });
    assert.deepEqual(client.writes, []);
    assert.deepEqual(sink.outLines, ['Found same Unit(hello.service) in Registry, nothing to do']);
  });

  it('--replace follows the per-command allowed desired states', async () => {
    const cases: Array<[CreateOptions['command'], 'inactive' | 'loaded' | 'launched', boolean]> = [
      ['submit', 'inactive', true],
      ['submit', 'loaded', false],
      ['submit', 'launched', false],
      ['load', 'loaded', true],
      ['load', 'launched', false],
      ['start', 'launched', true],
    ];
    for (const [command, desired, allowed] of cases) {
      const { client, sink, ctx } = setup({ 'hello.service': HELLO2 });
      client.seed('hello.service', HELLO, desired);
      await create(ctx, ['hello.service'], { command, replace: true });
      if (allowed) {
        assert.deepEqual(client.writes, ['create hello.service'], `${command} in ${desired}`);
        // A replace resets the desired state: the old version is unloaded before the new one runs.
        assert.equal(client.units.get('hello.service')?.desired, 'inactive');
        assert.equal(client.units.get('hello.service')?.file.description(), 'Hello v2');
      } else {
        assert.deepEqual(client.writes, [], `${command} in ${desired}`);
        assert.deepEqual(sink.errLines, [
          `Warning: can not replace Unit(hello.service) in state '${desired}', use the appropriate command`,
        ]);
      }
    }
  });

  it('--replace without a local copy to compare fails', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO);
    await assert.rejects(create(ctx, ['hello.service'], { replace: true }), /no local unit file hello.service/);
    assert.deepEqual(client.writes, []);
  });

  it('makes an instance from the template in the registry, content verbatim', async () => {
    const { client, sink, ctx } = setup();
    const tmpl = client.seed('web@.service', WEB_TEMPLATE);
    await create(ctx, ['web@1']);
    assert.deepEqual(client.writes, ['create web@1.service']);
    assert.equal(client.units.get('web@1.service')?.hash, tmpl.hash());
    assert.deepEqual(sink.outLines, ['Unit web@1.service inactive']);
  });

  it('warns when the local template differs from the registry template used for an instance', async () => {
    const { client, sink, ctx } = setup({ 'web@.service': '[Service]\nExecStart=/bin/echo other %i\n' });
    client.seed('web@.service', WEB_TEMPLATE);
    await create(ctx, ['web@1.service']);
    assert.deepEqual(client.writes, ['create web@1.service']);
    assert.deepEqual(sink.errLines, [
      'WARNING: Unit web@.service in registry differs from local template unit file web@.service. Add --replace to override.',
    ]);
  });

  it('makes an instance from a local template file next to the argument', async () => {
    const { client, ctx } = setup({ 'dir/web@.service': WEB_TEMPLATE });
    await create(ctx, ['dir/web@2.service', 'dir/web@3']);
    assert.deepEqual(client.writes, ['create web@2.service', 'create web@3.service']);
    assert.equal(client.units.get('web@3.service')?.file.serialize(), WEB_TEMPLATE);
  });

  it('names what is missing', async () => {
    const { ctx } = setup();
    await assert.rejects(create(ctx, ['hello']), { message: 'unable to find Unit(hello.service) in Registry or on filesystem' });
    await assert.rejects(create(ctx, ['web@1']), {
      message: 'failed getting Unit(web@1.service) from template: unable to find template Unit(web@.service) in Registry or on filesystem',
    });
  });

  it('writes nothing when any argument is malformed, and names the file and line', async () => {
    const { client, ctx } = setup({ 'good.service': HELLO, 'bad.service': '[Service]\nExecStart=/bin/true\nNoEquals\n' });
    await assert.rejects(create(ctx, ['good.service', 'bad.service']), (err: unknown) => {
      assert.ok(err instanceof FlotillaError);
      assert.equal(exitCodeOf(err), 1);
      assert.match(err.message, /^failed getting Unit\(bad\.service\) from file: unit file line 3: /);
      return true;
    });
    assert.deepEqual(client.writes, []);
  });

  it('writes nothing for a bad unit name', async () => {
    const { client, ctx } = setup({ 'a b.service': HELLO, 'good.service': HELLO });
    await assert.rejects(create(ctx, ['good.service', 'a b.service']), /invalid character ' ' in unit name/);
    assert.deepEqual(client.writes, []);
  });

  it('rejects forbidden [X-Fleet] combinations, naming the unit', async () => {
    const { client, ctx } = setup({ 'x.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\nMachineID=abc\n' });
    await assert.rejects(create(ctx, ['x.service']), { message: 'Unit x.service: MachineID cannot be used with Global' });
    assert.deepEqual(client.writes, []);
  });

  it('warns about unknown [X-Fleet] keys but creates the unit', async () => {
    const { client, sink, ctx } = setup({ 'x.service': '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nFoo=bar\n' });
    await create(ctx, ['x.service']);
    assert.deepEqual(client.writes, ['create x.service']);
    assert.deepEqual(sink.errLines, ['WARNING: Unit x.service: unrecognized requirement in [X-Fleet] section: "Foo"']);
  });

  it('acts once on a unit named twice', async () => {
    const { client, ctx } = setup({ 'hello.service': HELLO });
    await create(ctx, ['hello', 'hello.service']);
    assert.deepEqual(client.writes, ['create hello.service']);
  });

  it('a replace of a running unit waits until it is unscheduled', async () => {
    const { client, sink, ctx } = setup({ 'hello.service': HELLO2 });
    client.seed('hello.service', HELLO, 'launched');
    client.assign('hello.service', 'm1');
    client.publish('hello.service', 'm1', { applied: 'launched', active: 'active' });
    // Stands in for the engine reacting to the reset desired state.
    setTimeout(() => client.unassign('hello.service'), 30);
    const started = Date.now();
    await create(ctx, ['hello.service'], { command: 'start', replace: true });
    assert.ok(Date.now() - started >= 25);
    assert.deepEqual(sink.outLines, ['Unit hello.service inactive']);
  });

  it('submit with no arguments says so and succeeds', async () => {
    const { sink, ctx } = setup();
    await submitUnits(ctx, []);
    assert.deepEqual(sink.lines, ['err: No units given']);
  });

  it('submit prefixes failures the way fleet does', async () => {
    const { ctx } = setup();
    await assert.rejects(submitUnits(ctx, ['nope']), { message: 'Error creating units: unable to find Unit(nope.service) in Registry or on filesystem' });
  });
});
