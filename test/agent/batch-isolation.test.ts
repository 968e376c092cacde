/**
 * One unit never holds back another: a whole Agent against a real etcd, with
 * an in-memory service manager that fails on purpose for some units (link
 * refused, StartUnit refused, start job failed) and assignments the test
 * writes as the engine would, all in one transaction, so they land in one
 * batch. (test/systemd/agent-batch.test.ts does the same on a real systemd.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { encode, type UnitStateRecord } from '../../src/registry/records.js';
import { Agent } from '../../src/agent/agent.js';
import type { JobResult, UnitStatus } from '../../src/agent/unit-manager.js';
import { UnitFile } from '../../src/unit/index.js';
import { silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { MemoryUnitManager } from '../support/memory-unit-manager.js';

const ID = 'd'.repeat(32);
let dir = '';
let etcd: EtcdCluster;
let client: Etcd3;
let registry: Registry;

before(async () => {
  dir = await mkdtemp('/tmp/fl-batch-isolation-');
  etcd = await startEtcd({ dir: join(dir, 'etcd'), members: 1 });
  client = connectStore({ endpoints: etcd.endpoints });
  registry = new Registry(client, '/batch-isolation-test/');
});

after(async () => {
  client?.close();
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Fails on purpose: links of some units, StartUnit of others, and start jobs of others. */
class FailingManager extends MemoryUnitManager {
  readonly refuseLink = new Set<string>();
  readonly refuseStart = new Set<string>();
  readonly failStartJob = new Set<string>();
  readonly linkCalls: string[][] = [];

  override async linkUnitFiles(paths: string[]): Promise<void> {
    this.linkCalls.push(paths.map((p) => basename(p)));
    const bad = paths.find((p) => this.refuseLink.has(basename(p)));
    if (bad !== undefined) throw new Error(`cannot link unit file(s) ${paths.join(', ')}: Invalid argument`);
    await super.linkUnitFiles(paths);
  }

  override async startUnit(name: string): Promise<JobResult> {
    if (this.refuseStart.has(name)) throw new Error(`cannot start unit ${name}: Unit ${name} has a bad unit file setting.`);
    if (this.failStartJob.has(name)) {
      queueMicrotask(() => this.emit(name, { active: 'failed', sub: 'failed' }));
      return 'failed';
    }
    return super.startUnit(name);
  }

  override async unitStatus(name: string): Promise<UnitStatus> {
    const s = await super.unitStatus(name);
    return this.failStartJob.has(name) && s.load === 'loaded' ? { ...s, active: 'failed', sub: 'failed' } : s;
  }

  async unitResult(name: string): Promise<string | undefined> {
    return this.failStartJob.has(name) ? 'exit-code' : 'success';
  }
}

const text = (desc: string) => `[Unit]\nDescription=${desc}\n\n[Service]\nExecStart=/bin/sleep 1000\n`;

/** Store the units' contents (unless `stored` says no), then assign all of them here in one transaction. */
async function assignAll(units: Array<{ name: string; desc?: string; stored?: boolean; raw?: string }>): Promise<void> {
  const puts: Array<[string, string]> = [];
  for (const u of units) {
    const file = UnitFile.parse(text(u.desc ?? u.name));
    if (u.stored !== false) await registry.putUnit({ name: u.name, hash: file.hash(), desired: 'launched' }, file.serialize());
    puts.push([registry.keys.assignment(ID, u.name), u.raw ?? encode({ unit: u.name, hash: file.hash(), desired: 'launched' })]);
  }
  await client.kv.txn({ compare: [], success: puts.map(([k, v]) => ({ request_put: { key: Buffer.from(k), value: Buffer.from(v) } })), failure: [] });
}

async function states(): Promise<Map<string, UnitStateRecord>> {
  return new Map((await registry.listStates()).map((s) => [s.unit, s]));
}

function stateWhere(unit: string, ok: (s: UnitStateRecord) => boolean): Promise<UnitStateRecord> {
  return waitFor(`state of ${unit}`, async () => {
    const s = (await states()).get(unit);
    return s && ok(s) ? s : undefined;
  }, { timeoutMs: 8000 });
}

test('a unit that cannot be fetched, linked or started fails alone, with its reason; every other unit of the batch starts', async () => {
  const manager = new FailingManager();
  manager.refuseLink.add('link-bad.service');
  manager.refuseStart.add('start-bad.service');
  manager.failStartJob.add('job-failed.service');
  // Deep enough that '../../../..' from the units directory stays inside the test's directory.
  const units = join(dir, 'a/b/c/d/units');
  await mkdir(join(units, 'x'), { recursive: true });
  await mkdir(join(units, '.x'), { recursive: true });
  await mkdir(join(dir, 'a/b/etc/cron.d'), { recursive: true });
  const agent = new Agent({
    registry,
    machine: { id: ID, publicIP: '127.0.0.1', metadata: {}, version: 'test' },
    ttlSeconds: 5,
    unitsDirectory: units,
    manager,
    log: silentLogger(),
  });
  await agent.start();
  try {
    const evil = 'x/../../../../etc/cron.d/evil.service';
    await assignAll([
      { name: 'ok1.service' },
      { name: `${'l'.repeat(247)}.service` }, // 255 bytes: fits since temp files have short names
      { name: 'link-bad.service' },
      { name: 'start-bad.service' },
      { name: 'job-failed.service' },
      { name: 'missing.service', stored: false },
      { name: 'ok2.service' },
      // Keyed as a harmless unit, naming a path outside the units directory: never acted on.
      { name: 'decoy.service', raw: encode({ unit: evil, hash: UnitFile.parse(text('evil')).hash(), desired: 'launched' }) },
    ]);
    await waitFor('the good units running', () => (['ok1.service', 'ok2.service', `${'l'.repeat(247)}.service`].every((u) => manager.active.has(u)) ? true : undefined), { timeoutMs: 8000 });

    const linkBad = await stateWhere('link-bad.service', (s) => s.failure !== undefined);
    assert.match(linkBad.failure ?? '', /cannot link unit file\(s\) .*link-bad\.service: Invalid argument/);
    assert.equal(linkBad.applied, 'launched');
    // One link call for the batch failed; then one per unit, so the others were linked anyway.
    assert.ok(manager.linkCalls.some((c) => c.length > 1 && c.includes('link-bad.service')));
    assert.ok(manager.linkCalls.some((c) => c.length === 1 && c[0] === 'ok1.service'));
    assert.match((await stateWhere('start-bad.service', (s) => s.failure !== undefined)).failure ?? '', /bad unit file setting/);
    const job = await stateWhere('job-failed.service', (s) => s.failure !== undefined);
    assert.equal(job.failure, 'systemd\'s start job ended "failed" (unit result "exit-code")');
    assert.equal(job.active, 'failed');
    const missing = await stateWhere('missing.service', (s) => s.failure !== undefined);
    assert.match(missing.failure ?? '', /content [0-9a-f]{40} is missing from the store/);
    assert.equal(missing.load, 'not-found');

    const now = await states();
    for (const u of ['ok1.service', 'ok2.service']) {
      assert.equal(now.get(u)?.active, 'active', u);
      assert.equal(now.get(u)?.failure, undefined, u);
    }
    assert.equal(now.has(evil), false);
    assert.equal(now.has('decoy.service'), false);
    assert.equal(existsSync(join(dir, 'a/b/etc/cron.d/evil.service')), false, 'a file was written outside the units directory');
    assert.equal(manager.linked.has('evil.service'), false);

    // Fixed on the host: the failed unit is retried (with backoff) and its failure cleared.
    manager.refuseLink.delete('link-bad.service');
    const fixed = await waitFor('link-bad.service retried and running', async () => {
      const s = (await states()).get('link-bad.service');
      return s && s.failure === undefined && s.active === 'active' ? s : undefined;
    }, { timeoutMs: 30_000 }); // the retry backoff may have grown to 8 s by now
    assert.equal(fixed.load, 'loaded');

    // Unassigned: a unit that never got installed has its failed state removed too.
    await client.delete().key(registry.keys.assignment(ID, 'missing.service')).exec();
    await waitFor('missing.service state gone', async () => ((await states()).has('missing.service') ? undefined : true), { timeoutMs: 5000 });
  } finally {
    await agent.stop({ keepUnits: false });
  }
});

test('a running unit whose assignment becomes unreadable keeps running; deleting the assignment stops it', async () => {
  const manager = new MemoryUnitManager();
  const agent = new Agent({
    registry: new Registry(client, '/batch-isolation-test-2/'),
    machine: { id: ID, publicIP: '127.0.0.1', metadata: {}, version: 'test' },
    ttlSeconds: 5,
    unitsDirectory: join(dir, 'units-2'),
    manager,
    log: silentLogger(),
  });
  const reg = new Registry(client, '/batch-isolation-test-2/');
  const assign = async (unit: string, value?: string): Promise<void> => {
    const file = UnitFile.parse(text(unit));
    await reg.putUnit({ name: unit, hash: file.hash(), desired: 'launched' }, file.serialize());
    await client.put(reg.keys.assignment(ID, unit)).value(value ?? encode({ unit, hash: file.hash(), desired: 'launched' })).exec();
  };
  await agent.start();
  try {
    await assign('web.service');
    await waitFor('web.service running', () => (manager.active.has('web.service') ? true : undefined), { timeoutMs: 5000 });
    // Corrupt its assignment, then assign another unit: once that one runs, a batch has seen the corruption.
    await client.put(reg.keys.assignment(ID, 'web.service')).value('{"unit": "web.service", "hash": ').exec();
    await assign('probe.service');
    await waitFor('probe.service running', () => (manager.active.has('probe.service') ? true : undefined), { timeoutMs: 5000 });
    assert.equal(manager.active.has('web.service'), true, 'an unreadable assignment stopped its running unit');
    assert.equal((await reg.listStates('web.service')).length, 1, 'its state is still reported');

    await client.delete().key(reg.keys.assignment(ID, 'web.service')).exec();
    await waitFor('web.service stopped', () => (manager.active.has('web.service') ? undefined : true), { timeoutMs: 5000 });
    await waitFor('web.service state gone', async () => ((await reg.listStates('web.service')).length === 0 ? true : undefined), { timeoutMs: 5000 });
  } finally {
    await agent.stop({ keepUnits: false });
  }
});
