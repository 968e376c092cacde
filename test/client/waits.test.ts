/**
 * Blocking semantics of load/start/stop/unload/destroy/restart.
 *
 * These tests FAKE the engine and agents: a `FakeCluster` reacts to desired
 * state changes on the in-memory client by writing assignments and unit
 * states, only so the wait logic has something to wait for. Real agents are
 * exercised by the end-to-end tests.
 */
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import {
  destroyUnits,
  loadUnits,
  operationContext,
  restartUnits,
  startUnits,
  stopUnits,
  unloadUnits,
  waitForUnitStates,
} from '../../src/client/operations/index.js';
import type { DesiredState } from '../../src/client/types.js';
import { throwFailures } from '../../src/client/operations/waits.js';
import { WaitTimeoutError } from '../../src/client/operations/waiter.js';
import { FlotillaError, StoreUnavailableError } from '../../src/util/errors.js';
import { MemoryClient, MemorySink, memoryFiles } from './support/memory-client.js';

const HELLO = '[Service]\nExecStart=/bin/sleep 100\n';
const GLOBAL = '[Service]\nExecStart=/bin/sleep 100\n\n[X-Fleet]\nGlobal=true\n';
const MACHINE = '113f16a7aaaaaaaaaaaaaaaaaaaaaaaa';

/** Fake engine + agent on one machine: follows desired state after `delayMs`. */
class FakeCluster {
  systemdActiveAfterMs = 0;

  constructor(
    readonly client: MemoryClient,
    readonly delayMs = 10,
  ) {
    client.onDesired = (name, state) => setTimeout(() => this.follow(name, state), this.delayMs);
  }

  follow(name: string, state: DesiredState): void {
    if (state === 'inactive') {
      this.client.unassign(name);
      this.client.unpublish(name);
      return;
    }
    this.client.assign(name, MACHINE, state);
    if (state === 'loaded') {
      this.client.publish(name, MACHINE, { applied: 'loaded', active: 'inactive', sub: 'dead' });
      return;
    }
    const activate = (): void => this.client.publish(name, MACHINE, { applied: 'launched', active: 'active', sub: 'running' });
    if (this.systemdActiveAfterMs > 0) {
      this.client.publish(name, MACHINE, { applied: 'launched', active: 'activating', sub: 'start-pre' });
      setTimeout(activate, this.systemdActiveAfterMs).unref();
    } else {
      activate();
    }
  }
}

function setup(opts: { attemptMs?: number; recheckMs?: number; files?: Record<string, string> } = {}) {
  const client = new MemoryClient();
  client.machines = [{ id: MACHINE, publicIP: '10.0.0.1', metadata: {}, sshPort: 22, systemdScope: 'system' }];
  const sink = new MemorySink();
  const ctx = operationContext(client, sink, {
    files: memoryFiles(opts.files ?? {}),
    attemptMs: opts.attemptMs ?? 2000,
    // Long on purpose: reactions must come from change notifications, not the safety re-read.
    recheckMs: opts.recheckMs ?? 10_000,
  });
  return { client, sink, ctx };
}

describe('blocking waits', () => {
  it('start waits for launched and systemd active, printing the machine legend', async () => {
    const { client, sink, ctx } = setup({ files: { 'hello.service': HELLO } });
    new FakeCluster(client);
    await startUnits(ctx, ['hello']);
    assert.deepEqual(sink.lines, [
      'out: Unit hello.service inactive',
      'out: Unit hello.service launched on 113f16a7.../10.0.0.1',
    ]);
    assert.equal(client.watcherCount, 0, 'subscriptions are closed');
  });

  it('reacts to a change within 50 ms (no polling interval)', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO, 'loaded');
    let changedAt = 0;
    setTimeout(() => {
      changedAt = Date.now();
      client.assign('hello.service', MACHINE, 'loaded');
      client.publish('hello.service', MACHINE, { applied: 'loaded' });
    }, 100);
    await waitForUnitStates(ctx, ['hello.service'], 'loaded', 0, 'load');
    const latency = Date.now() - changedAt;
    assert.ok(latency < 50, `reacted after ${latency} ms`);
  });

  it('--no-block start prints the Triggered line once and does not wait', async () => {
    const { client, sink, ctx } = setup();
    client.seed('hello.service', HELLO);
    await startUnits(ctx, ['hello'], { noBlock: true });
    assert.deepEqual(sink.lines, ['out: Triggered unit hello.service start']);
    assert.equal(client.units.get('hello.service')?.desired, 'launched');
  });

  it('--block-attempts bounds the wait: N attempts of one attempt length each', async () => {
    const { client, ctx } = setup({ attemptMs: 40 });
    client.seed('hello.service', HELLO);
    const started = Date.now();
    await assert.rejects(loadUnits(ctx, ['hello'], { blockAttempts: 2 }), {
      message: 'Error waiting for unit states, exit status: timed out waiting for unit hello.service to report state loaded',
    });
    const took = Date.now() - started;
    assert.ok(took >= 75 && took < 1000, `took ${took} ms`);
  });

  it('the systemd-active wait after start gets the whole block-attempts budget, not one attempt', async () => {
    const { client, sink, ctx } = setup({ attemptMs: 100 });
    client.seed('hello.service', HELLO);
    const fake = new FakeCluster(client);
    fake.systemdActiveAfterMs = 180; // longer than one attempt, shorter than three
    await startUnits(ctx, ['hello'], { blockAttempts: 3 });
    assert.deepEqual(sink.outLines, ['Unit hello.service launched on 113f16a7.../10.0.0.1']);
  });

  it('the systemd-active wait reports what systemd last said when it times out', async () => {
    const { client, ctx } = setup({ attemptMs: 30 });
    client.seed('hello.service', HELLO);
    const fake = new FakeCluster(client);
    fake.systemdActiveAfterMs = 10_000;
    await assert.rejects(startUnits(ctx, ['hello'], { blockAttempts: 2 }), {
      message:
        'Error waiting for systemd unit states, err: timed out waiting for unit hello.service to become active in systemd (last reported: loaded/activating/start-pre)',
    });
  });

  it('a unit systemd reports failed fails the start at once, naming the machine', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO);
    client.onDesired = (name) =>
      setTimeout(() => {
        client.assign(name, MACHINE, 'launched');
        client.publish(name, MACHINE, { applied: 'launched', load: 'loaded', active: 'failed', sub: 'failed' });
      }, 10);
    await assert.rejects(startUnits(ctx, ['hello']), {
      message: 'Error waiting for systemd unit states, err: unit hello.service failed on 113f16a7.../10.0.0.1: systemd reports loaded/failed/failed',
    });
  });

  it('a unit its agent could not carry out fails the start or load at once, with the agent\'s reason', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO);
    client.seed('other.service', HELLO);
    const failure = 'cannot write its unit file: ENOSPC: no space left on device';
    client.onDesired = (name, state) =>
      setTimeout(() => {
        if (state === 'inactive') return;
        client.assign(name, MACHINE, state);
        client.publish(name, MACHINE, { applied: state, load: 'not-found', active: 'inactive', sub: 'dead', failure });
      }, 10);
    await assert.rejects(startUnits(ctx, ['hello']), {
      message: `Error waiting for unit states, exit status: unit hello.service failed on 113f16a7.../10.0.0.1: ${failure}`,
    });
    await assert.rejects(loadUnits(ctx, ['other']), { message: new RegExp(`unit other.service failed on 113f16a7.../10.0.0.1: ${failure}`) });
  });

  it('a start job that failed fails the start with systemd\'s reasons', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO);
    const failure = 'systemd\'s start job ended "failed" (unit result "exit-code")';
    client.onDesired = (name) =>
      setTimeout(() => {
        client.assign(name, MACHINE, 'launched');
        client.publish(name, MACHINE, { applied: 'launched', load: 'loaded', active: 'failed', sub: 'failed', failure });
      }, 10);
    await assert.rejects(startUnits(ctx, ['hello']), { message: new RegExp(`unit hello.service failed on 113f16a7.../10.0.0.1: ${failure.replace(/[()]/g, '\\$&')}`) });
  });

  it('global units are triggered, never waited on', async () => {
    const { client, sink, ctx } = setup();
    client.seed('g.service', GLOBAL);
    await startUnits(ctx, ['g.service']);
    assert.deepEqual(sink.lines, ['out: Triggered global unit g.service start']);
  });

  it('units already at the goal are skipped silently', async () => {
    const { client, sink, ctx } = setup();
    client.seed('hello.service', HELLO, 'launched');
    await startUnits(ctx, ['hello']);
    assert.deepEqual(sink.lines, []);
    assert.deepEqual(client.writes, []);
  });

  it('prints unit lines in argument order whatever order they finish in', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'loaded');
    client.seed('b.service', HELLO, 'loaded');
    setTimeout(() => {
      client.assign('b.service', MACHINE, 'loaded');
      client.publish('b.service', MACHINE, { applied: 'loaded' });
    }, 10);
    setTimeout(() => {
      client.assign('a.service', MACHINE, 'loaded');
      client.publish('a.service', MACHINE, { applied: 'loaded' });
    }, 60);
    await waitForUnitStates(ctx, ['a.service', 'b.service'], 'loaded', 0, 'load');
    assert.deepEqual(sink.outLines, [
      'Unit a.service loaded on 113f16a7.../10.0.0.1',
      'Unit b.service loaded on 113f16a7.../10.0.0.1',
    ]);
  });

  it('a unit destroyed while waited on fails the wait instead of hanging', async () => {
    const { client, ctx } = setup();
    client.seed('hello.service', HELLO, 'loaded');
    setTimeout(() => void client.destroyUnit('hello.service'), 20);
    await assert.rejects(waitForUnitStates(ctx, ['hello.service'], 'loaded', 0, 'load'), /was destroyed while waiting/);
  });

  it('start of a unit created again does not end on what systemd reports of its earlier version', async () => {
    const { client, sink, ctx } = setup({ files: { 'hello.service': HELLO } });
    // Left over from a unit of that name destroyed a moment ago, other content: not yet cleaned up.
    const old = 'a'.repeat(40);
    client.assignments.set(`${MACHINE}/hello.service`, { unit: 'hello.service', machineId: MACHINE, hash: old, desired: 'launched' });
    client.states.set(`hello.service/${MACHINE}`, { unit: 'hello.service', machineId: MACHINE, hash: old, load: 'loaded', active: 'active', sub: 'running', applied: 'launched' });
    let ranAt = 0;
    client.onDesired = (name) =>
      setTimeout(() => {
        ranAt = Date.now();
        client.assign(name, MACHINE, 'launched');
        client.publish(name, MACHINE, { hash: client.units.get(name)?.hash ?? '', applied: 'launched', active: 'active', sub: 'running' });
      }, 50);
    await startUnits(ctx, ['hello']);
    assert.ok(ranAt > 0 && Date.now() >= ranAt, 'returned only once the new content runs');
    assert.equal(sink.outLines[0], 'Unit hello.service inactive');
  });

  it('load of a missing unit fails before changing anything', async () => {
    const { client, ctx } = setup({ files: { 'a.service': HELLO } });
    client.seed('b.service', HELLO);
    client.onDesired = () => assert.fail('nothing may change');
    await assert.rejects(loadUnits(ctx, ['b.service', 'c.service']), /Error creating units: unable to find Unit\(c\.service\)/);
  });
});

describe('stop, unload, destroy, restart', () => {
  it('stop refuses a unit whose desired state is inactive, changing nothing', async () => {
    const { client, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    client.seed('b.service', HELLO, 'inactive');
    await assert.rejects(stopUnits(ctx, ['a', 'b']), { message: 'Unable to stop unit b.service in state inactive' });
    assert.deepEqual(client.writes, []);
  });

  it('stop waits for loaded and reports success on stderr', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    new FakeCluster(client).follow('a.service', 'launched');
    await stopUnits(ctx, ['a']);
    assert.deepEqual(sink.lines, ['out: Unit a.service loaded on 113f16a7.../10.0.0.1', 'err: Successfully stopped units [a.service].']);
  });

  it('stop does not skip a unit that is still starting', async () => {
    const { client, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    client.assign('a.service', MACHINE, 'launched');
    client.publish('a.service', MACHINE, { applied: 'loaded' }); // current loaded, start pending
    await stopUnits(ctx, ['a'], { noBlock: true });
    assert.equal(client.units.get('a.service')?.desired, 'loaded');
  });

  it('stop and unload of unknown units say so and succeed', async () => {
    const { sink, ctx } = setup();
    await stopUnits(ctx, ['x']);
    await unloadUnits(ctx, ['x']);
    await destroyUnits(ctx, ['x']);
    assert.deepEqual(sink.errLines, ['Units not found in registry', 'Units not found in registry', 'Units not found in registry']);
  });

  it('unload skips settled units and waits for the rest', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'inactive');
    client.seed('b.service', HELLO, 'loaded');
    const fake = new FakeCluster(client);
    fake.follow('b.service', 'loaded');
    await unloadUnits(ctx, ['a', 'b']);
    assert.deepEqual(sink.lines, ['out: Unit b.service inactive', 'err: Successfully unloaded units [b.service].']);
  });

  it('destroy blocks until the agents have unloaded the unit', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    client.publish('a.service', MACHINE, { applied: 'launched', active: 'active' });
    let unloadedAt = 0;
    setTimeout(() => {
      unloadedAt = Date.now();
      client.unpublish('a.service');
    }, 60);
    await destroyUnits(ctx, ['a']);
    assert.ok(unloadedAt > 0, 'returned only after the states were gone');
    assert.deepEqual(sink.lines, ['out: Destroyed a.service']);
  });

  it('destroy --no-block returns at once', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    client.publish('a.service', MACHINE, { applied: 'launched', active: 'active' });
    await destroyUnits(ctx, ['a'], { noBlock: true });
    assert.deepEqual(sink.lines, ['out: Destroyed a.service']);
    assert.equal(client.units.size, 0);
  });

  it('restart stops (waiting for loaded) and starts again', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'launched');
    const fake = new FakeCluster(client);
    fake.follow('a.service', 'launched');
    await restartUnits(ctx, ['a']);
    assert.deepEqual(client.writes, ['desire a.service loaded', 'desire a.service launched']);
    assert.deepEqual(sink.outLines, ['Unit a.service loaded on 113f16a7.../10.0.0.1', 'Unit a.service launched on 113f16a7.../10.0.0.1']);
  });

  it('restart of an inactive unit is refused per unit', async () => {
    const { client, sink, ctx } = setup();
    client.seed('a.service', HELLO, 'inactive');
    await restartUnits(ctx, ['a']);
    assert.deepEqual(sink.errLines, ['Unable to restart unit a.service in state inactive']);
  });

  it('restart of a global unit waits for systemd to stop and start it everywhere', async () => {
    const { client, sink, ctx } = setup();
    client.seed('g.service', GLOBAL, 'launched');
    const machines = ['aaaaaaaa1111', 'bbbbbbbb2222'];
    for (const m of machines) client.publish('g.service', m, { applied: 'launched', active: 'active' });
    client.onDesired = (name, state) =>
      setTimeout(() => {
        for (const m of machines) client.publish(name, m, state === 'loaded' ? { applied: 'loaded', active: 'inactive' } : { applied: 'launched', active: 'active' });
      }, 10);
    await restartUnits(ctx, ['g']);
    assert.deepEqual(client.writes, ['desire g.service loaded', 'desire g.service launched']);
    assert.deepEqual(sink.outLines, ['Restarted global unit g.service on 2 machines']);
  });
});

const rejected = (reason: unknown): PromiseSettledResult<unknown> => ({ status: 'rejected', reason });
const ok: PromiseSettledResult<unknown> = { status: 'fulfilled', value: undefined };

test('timeouts alone stay one WaitTimeoutError (sync waits out destroyed units on it); any other failure makes it a plain one; an outage wins', () => {
  assert.doesNotThrow(() => throwFailures([ok, ok]));
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a timed out')), ok, rejected(new WaitTimeoutError('b timed out'))]), (e: unknown) => e instanceof WaitTimeoutError && e.message === 'a timed out; b timed out');
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a timed out')), rejected(new FlotillaError('b failed'))]), (e: unknown) => e instanceof FlotillaError && !(e instanceof WaitTimeoutError) && e.message === 'a timed out; b failed');
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a')), rejected(new StoreUnavailableError('down'))]), StoreUnavailableError);
});
