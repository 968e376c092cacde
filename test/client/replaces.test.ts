/** Circular Replaces= at submit: the cycle search, and lazyCreateUnits refusing before any write. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findReplaceCycle, lazyCreateUnits, operationContext, replaceCycleMessage, startUnits } from '../../src/client/operations/index.js';
import { MemoryClient, MemorySink, memoryFiles } from './support/memory-client.js';

const replacing = (...globs: string[]): string =>
  `[Service]\nExecStart=/bin/sleep 100\n\n[X-Fleet]\n${globs.map((g) => `Replaces=${g}`).join('\n')}\n`;
const PLAIN = '[Service]\nExecStart=/bin/sleep 100\n';

function setup(files: Record<string, string>) {
  const client = new MemoryClient();
  const sink = new MemorySink();
  let listed = 0;
  const list = client.listUnitFiles.bind(client);
  client.listUnitFiles = () => {
    listed++;
    return list();
  };
  const ctx = operationContext(client, sink, { files: memoryFiles(files), attemptMs: 50, recheckMs: 1000 });
  return { client, sink, ctx, listed: () => listed };
}

describe('findReplaceCycle', () => {
  it('finds a two-unit cycle and names it from the new unit', () => {
    const nodes = [
      { name: 'a.service', replaces: ['b.service'] },
      { name: 'b.service', replaces: ['a.service'] },
    ];
    assert.deepEqual(findReplaceCycle(nodes, ['b.service']), ['b.service', 'a.service', 'b.service']);
    assert.equal(
      replaceCycleMessage(['a.service', 'b.service', 'a.service']),
      'unit a.service replaces b.service, which replaces a.service: remove one of the Replaces= lines',
    );
  });

  it('follows globs and longer cycles, and picks the shortest', () => {
    const nodes = [
      { name: 'a.service', replaces: ['b*.service'] },
      { name: 'b1.service', replaces: ['c.service'] },
      { name: 'b2.service', replaces: ['a.service'] },
      { name: 'c.service', replaces: ['a.service'] },
    ];
    assert.deepEqual(findReplaceCycle(nodes, ['a.service']), ['a.service', 'b2.service', 'a.service']);
    const three = nodes.filter((n) => n.name !== 'b2.service');
    assert.deepEqual(findReplaceCycle(three, ['a.service']), ['a.service', 'b1.service', 'c.service', 'a.service']);
    assert.equal(
      replaceCycleMessage(['a.service', 'b1.service', 'c.service', 'a.service']),
      'unit a.service replaces b1.service, which replaces c.service, which replaces a.service: remove one of the Replaces= lines',
    );
  });

  it('one-way replaces, self matches and cycles not through a new unit are not reported', () => {
    assert.equal(findReplaceCycle([{ name: 'a.service', replaces: ['*.service'] }, { name: 'b.service', replaces: [] }], ['a.service']), undefined);
    const old = [
      { name: 'x.service', replaces: ['y.service'] },
      { name: 'y.service', replaces: ['x.service'] },
      { name: 'n.service', replaces: ['x.service'] },
    ];
    assert.equal(findReplaceCycle(old, ['n.service']), undefined);
  });
});

describe('lazyCreateUnits and Replaces=', () => {
  it('refuses a cycle among the units of one command, writing nothing', async () => {
    const { client, ctx } = setup({ 'a.service': replacing('b.service'), 'b.service': replacing('a.service') });
    await assert.rejects(lazyCreateUnits(ctx, ['a', 'b'], { command: 'submit' }), {
      message: 'unit a.service replaces b.service, which replaces a.service: remove one of the Replaces= lines',
    });
    assert.deepEqual(client.writes, []);
  });

  it('refuses a cycle with a unit already in the cluster; start changes nothing', async () => {
    const { client, ctx } = setup({ 'b.service': replacing('a@*.service') });
    client.seed('a@1.service', replacing('b.service'));
    await assert.rejects(startUnits(ctx, ['b']), {
      message: 'Error creating units: unit b.service replaces a@1.service, which replaces b.service: remove one of the Replaces= lines',
    });
    assert.deepEqual(client.writes, []);
  });

  it('instances of a template that replace each other form a cycle; the template alone does not', async () => {
    const files = { 'w@.service': replacing('w@*.service') };
    const { client, ctx } = setup(files);
    await lazyCreateUnits(ctx, ['w@.service', 'w@1'], { command: 'submit' });
    assert.deepEqual(client.writes, ['create w@.service', 'create w@1.service']);
    await assert.rejects(lazyCreateUnits(ctx, ['w@2'], { command: 'submit' }), {
      message: 'unit w@2.service replaces w@1.service, which replaces w@2.service: remove one of the Replaces= lines',
    });
  });

  it('--replace checks the new content, not the stored one', async () => {
    const { client, ctx } = setup({ 'a.service': PLAIN });
    client.seed('a.service', replacing('b.service'));
    client.seed('b.service', replacing('a.service'));
    await lazyCreateUnits(ctx, ['a'], { command: 'submit', replace: true });
    assert.deepEqual(client.writes, ['create a.service']);
  });

  it('reads the cluster only when a new unit replaces something', async () => {
    const { ctx, listed } = setup({ 'p.service': PLAIN, 'r.service': replacing('p.service') });
    await lazyCreateUnits(ctx, ['p'], { command: 'submit' });
    assert.equal(listed(), 0);
    await lazyCreateUnits(ctx, ['r'], { command: 'submit' });
    assert.equal(listed(), 1);
  });
});
