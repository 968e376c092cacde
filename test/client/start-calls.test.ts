/**
 * What one `flotctl start` costs the store, counted against a real etcd: the
 * client reaches etcd only through a ClientStore, which the test wraps with
 * a counter. No engine or agent runs; the test writes the assignment and
 * the unit state itself when it sees the unit's desired state, as they would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdClusterClient } from '../../src/client/etcd-client.js';
import { operationContext, startUnits } from '../../src/client/operations/index.js';
import { type ClientStore, connectClientStore } from '../../src/registry/client-store.js';
import { Keys } from '../../src/registry/keys.js';
import { decodeUnit, encode } from '../../src/registry/records.js';
import { UnitFile } from '../../src/unit/index.js';
import { type TestEtcd, startTestEtcd } from '../support/etcd.js';
import { MemorySink, memoryFiles } from './support/memory-client.js';

const HELLO = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 100\n';
const M1 = '113f16a7ab5e4c7f9a1d0c2b3e4f5a6b';

type Kind = 'read' | 'write' | 'watch';
const WRITES = new Set(['putUnit', 'setDesiredState', 'destroyUnit', 'updateMachineMetadata']);

function kindOf(method: string): Kind | undefined {
  if (method === 'watchPrefix') return 'watch';
  if (WRITES.has(method)) return 'write';
  if (/^(get|list|find)/.test(method)) return 'read';
  return undefined;
}

/** The store with every call logged by method name, in call order. */
function counted(store: ClientStore): { store: ClientStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || kindOf(prop) === undefined) return value;
      return (...args: unknown[]) => {
        calls.push(prop);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

function tally(calls: readonly string[]): Record<Kind, number> {
  const out: Record<Kind, number> = { read: 0, write: 0, watch: 0 };
  for (const c of calls) {
    const k = kindOf(c);
    if (k) out[k]++;
  }
  return out;
}

describe('the store calls of one start', () => {
  let etcd: TestEtcd;
  let raw: Etcd3;
  let n = 0;

  before(async () => {
    etcd = await startTestEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    raw.close();
    await etcd.stop();
  });

  const setup = () => {
    const prefix = `/calls${++n}/`;
    const keys = new Keys(prefix);
    const { store, calls } = counted(connectClientStore({ endpoints: etcd.endpoints, prefix }));
    const client = new EtcdClusterClient(store);
    const sink = new MemorySink();
    const ctx = operationContext(client, sink, { files: memoryFiles({ 'hello.service': HELLO }) });
    return { keys, calls, client, sink, ctx };
  };

  /** Stands in for engine and agent: once the unit is desired launched, it is assigned to M1 and active there. */
  const followDesired = async (keys: Keys, unit: string): Promise<() => Promise<void>> => {
    await raw.put(keys.machine(M1)).value(encode({ id: M1, publicIP: '127.0.1.1', metadata: {}, version: '0.1.0' }));
    const w = await raw.watch().key(keys.unit(unit)).create();
    w.on('put', (kv) => {
      const record = decodeUnit(kv.value.toString());
      if (record?.desired !== 'launched') return;
      void (async () => {
        await raw.put(keys.assignment(M1, unit)).value(encode({ unit, hash: record.hash, desired: 'launched' }));
        await raw
          .put(keys.state(unit, M1))
          .value(encode({ unit, machineId: M1, hash: record.hash, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' }));
      })();
    });
    return () => w.cancel();
  };

  it('start of one new unit: one read, one transaction and one watch before the wait for active', async () => {
    const { keys, calls, client, sink, ctx } = setup();
    const stop = await followDesired(keys, 'hello.service');
    try {
      await startUnits(ctx, ['hello']);
    } finally {
      await stop();
      await client.close();
    }
    assert.deepEqual(sink.lines, ['out: Unit hello.service inactive', 'out: Unit hello.service launched on 113f16a7.../127.0.1.1']);
    const watchAt = calls.indexOf('watchPrefix');
    const total = tally(calls);
    const beforeWait = tally(calls.slice(0, watchAt + 1));
    // Shown with the test's output, for the figures in reports.
    console.log(`store calls of one start: before the wait ${JSON.stringify(beforeWait)}; in all ${JSON.stringify(total)}: ${calls.join(' ')}`);
    assert.deepEqual(calls.slice(0, watchAt + 1), ['getUnit', 'putUnit', 'watchPrefix']);
    assert.equal(total.watch, 1, 'one watch for both waits');
    assert.equal(total.write, 1, 'the desired state is written with the unit');
  });

  it('start --no-block of one new unit: one read and one transaction, no watch', async () => {
    const { calls, client, sink, ctx } = setup();
    try {
      await startUnits(ctx, ['hello'], { noBlock: true });
    } finally {
      await client.close();
    }
    assert.deepEqual(sink.outLines, ['Unit hello.service inactive', 'Triggered unit hello.service start']);
    assert.deepEqual(calls, ['getUnit', 'putUnit']);
  });

  it('a watch opened after a write reports what changed in between', { timeout: 10_000 }, async () => {
    const { keys, client } = setup();
    try {
      const mark = await client.createUnit('hello.service', UnitFile.parse(HELLO), 'launched');
      await raw.put(keys.assignment(M1, 'hello.service')).value('{}');
      const seen: string[] = [];
      let notified: (() => void) | undefined;
      const got = new Promise<void>((resolve) => (notified = resolve));
      const unsubscribe = await client.watchUnits(['hello.service'], (unit) => {
        seen.push(unit);
        notified?.();
      }, mark);
      try {
        await got;
        assert.equal(seen[0], 'hello.service');
      } finally {
        await unsubscribe();
      }
    } finally {
      await client.close();
    }
  });

  it('a watch from a revision etcd has compacted away starts now and asks for a re-read', { timeout: 10_000 }, async () => {
    const { keys, client } = setup();
    try {
      const mark = await client.createUnit('hello.service', UnitFile.parse(HELLO));
      const latest = await raw.put(keys.assignment(M1, 'hello.service')).value('{}').exec();
      await raw.kv.compact({ revision: latest.header.revision });
      let notified: (() => void) | undefined;
      const next = (): Promise<void> => new Promise((resolve) => (notified = resolve));
      let got = next();
      const unsubscribe = await client.watchUnits(['hello.service'], () => notified?.(), mark);
      try {
        await got;
        // And it goes on reporting changes.
        got = next();
        await raw.put(keys.state('hello.service', M1)).value('{}');
        await got;
      } finally {
        await unsubscribe();
      }
    } finally {
      await client.close();
    }
  });
});
