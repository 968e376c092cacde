/**
 * The etcd driver against a real etcd. Assignments and unit states are
 * written straight into the store here (as the engine and agents would) to
 * check how the client derives current state; no agent runs.
 */
import { exitCodeOf } from '../../src/util/exit-codes.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdClusterClient } from '../../src/client/etcd-client.js';
import { StoreUnreachableError } from '../../src/client/store-errors.js';
import { Keys } from '../../src/registry/keys.js';
import { encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { ExitCode } from '../../src/util/errors.js';
import { type TestEtcd, startTestEtcd } from '../support/etcd.js';
import { freePort } from './support/ports.js';

const HELLO = UnitFile.parse('[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n');
const GLOBAL = UnitFile.parse('[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n');

describe('EtcdClusterClient', () => {
  let etcd: TestEtcd;
  let raw: Etcd3;
  let n = 0;
  const fresh = (): { client: EtcdClusterClient; keys: Keys } => {
    const prefix = `/t${++n}/`;
    return { client: EtcdClusterClient.connect({ endpoints: etcd.endpoints, prefix }), keys: new Keys(prefix) };
  };

  before(async () => {
    etcd = await startTestEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    raw.close();
    await etcd.stop();
  });

  it('stores units and reads them back', async () => {
    const { client } = fresh();
    try {
      await client.createUnit('hello.service', HELLO);
      await client.createUnit('g.service', GLOBAL);
      const u = await client.getUnit('hello.service');
      assert.deepEqual(u, {
        name: 'hello.service',
        hash: HELLO.hash(),
        desiredState: 'inactive',
        currentState: 'inactive',
        global: false,
        description: 'Hello',
      });
      assert.equal((await client.getUnitFile('hello.service'))?.serialize(), HELLO.serialize());
      assert.equal(await client.getUnit('nope.service'), undefined);
      assert.deepEqual((await client.listUnits()).map((x) => [x.name, x.global]), [['g.service', true], ['hello.service', false]]);
      assert.equal(await client.setDesiredState('g.service', 'launched'), true);
      assert.equal((await client.getUnit('g.service'))?.currentState, 'launched');
      assert.equal(await client.setDesiredState('nope.service', 'loaded'), false);
      assert.equal(await client.destroyUnit('hello.service'), true);
      assert.equal(await client.destroyUnit('hello.service'), false);
    } finally {
      await client.close();
    }
  });

  it('refuses to activate a template', async () => {
    const { client } = fresh();
    try {
      await client.createUnit('web@.service', HELLO);
      await assert.rejects(client.setDesiredState('web@.service', 'launched'), { message: 'cannot activate template "web@.service"' });
    } finally {
      await client.close();
    }
  });

  it('derives current state and machine from assignments and states, in lists and single reads', async () => {
    const { client, keys } = fresh();
    try {
      await client.createUnit('hello.service', HELLO);
      await client.setDesiredState('hello.service', 'launched');
      const m = 'aaaaaaaabbbbbbbbccccccccdddddddd';
      await raw.put(keys.machine(m)).value(encode({ id: m, publicIP: '10.1.1.1', metadata: { az: 'a' }, version: '0.1.0' }));
      await raw.put(keys.machineMetadata(m, 'rack')).value('r1');
      await raw.put(keys.assignment(m, 'hello.service')).value(encode({ unit: 'hello.service', hash: HELLO.hash(), desired: 'launched' }));
      assert.deepEqual(
        [(await client.getUnit('hello.service'))?.currentState, (await client.getUnit('hello.service'))?.machineId],
        ['inactive', m],
      );
      await raw.put(keys.state('hello.service', m)).value(
        encode({ unit: 'hello.service', machineId: m, hash: HELLO.hash(), load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }),
      );
      const one = await client.getUnit('hello.service');
      const [listed] = await client.listUnits();
      assert.deepEqual(one, listed);
      assert.deepEqual([one?.currentState, one?.machineId], ['launched', m]);
      assert.deepEqual(await client.listUnitStates(), [
        { name: 'hello.service', machineId: m, hash: HELLO.hash(), load: 'loaded', active: 'active', sub: 'running' },
      ]);
      assert.deepEqual(await client.listMachines(), [{ id: m, publicIP: '10.1.1.1', metadata: { az: 'a', rack: 'r1' }, sshPort: 22, systemdScope: 'system', version: '0.1.0' }]);
    } finally {
      await client.close();
    }
  });

  it('notifies watchers of changes to the units they watch, and only those', async () => {
    const { client, keys } = fresh();
    const seen: string[] = [];
    let resolveSeen: (() => void) | undefined;
    const unsubscribe = await client.watchUnits(['a.service'], (u) => {
      seen.push(u);
      resolveSeen?.();
    });
    try {
      const started = Date.now();
      const got = new Promise<void>((r) => (resolveSeen = r));
      await raw.put(keys.state('b.service', 'm1')).value('{}');
      await raw.put(keys.assignment('m1', 'a.service')).value('{}');
      await got;
      assert.ok(Date.now() - started < 500);
      assert.deepEqual(seen, ['a.service']);
    } finally {
      await unsubscribe();
      await client.close();
    }
  });

  it('an unreachable store is one StoreUnreachableError naming the endpoint (exit 3)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = EtcdClusterClient.connect({ endpoints: [url], requestTimeoutMs: 1000 });
    try {
      await assert.rejects(client.listUnits(), (err: unknown) => {
        assert.ok(err instanceof StoreUnreachableError);
        assert.equal(exitCodeOf(err), ExitCode.unavailable);
        assert.match(err.message, new RegExp(`^cluster store unreachable at ${url}: .*ECONNREFUSED`));
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    } finally {
      await client.close();
    }
  });
});
