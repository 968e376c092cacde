/**
 * OnDisconnect=stop on a real cluster (TTL 3 s): when the agent of the host
 * running a singleton freezes (SIGSTOP) or dies, systemd itself stops the unit
 * before a replacement can start. A sampler reads every host's systemd
 * directly, every 50 ms, for the whole test: two active copies in any sample
 * is a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';

const TTL = 3;
let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

class Sampler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  samples = 0;
  readonly violations: string[] = [];
  constructor(private readonly unit: string) {}
  start(): void {
    const tick = async () => {
      const on = await hostsRunning(cluster, this.unit).catch(() => []);
      this.samples++;
      if (on.length > 1) this.violations.push(`${new Date().toISOString()} ${this.unit} active on hosts ${on.join(',')}`);
      if (!this.stopped) this.timer = setTimeout(() => void tick(), 50);
    };
    void tick();
  }
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-amo-'), hosts: 3, ttlSeconds: TTL });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
  await writeFile(join(work, 'single.service'), '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nOnDisconnect=stop\n');
  const r = await flotctl(env, ['start', join(work, 'single.service')], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
});

async function runningOn(): Promise<number> {
  return waitFor('single.service active on exactly one host', async () => {
    const on = await hostsRunning(cluster, 'single.service');
    return on.length === 1 ? on[0] : undefined;
    // Lease expiry, a new engine if the frozen host led, the 0.6 x TTL grace, one round.
  }, { timeoutMs: (2 * TTL + 4) * 1000 });
}

test('a frozen agent: systemd stops its singleton, it runs elsewhere, never twice', async () => {
  const sampler = new Sampler('single.service');
  sampler.start();
  try {
    const host = await runningOn();
    const pid = await cluster.flotilladPid(host);
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor('singleton stopped on the frozen host', async () => ((await hostsRunning(cluster, 'single.service', [host])).length === 0 ? true : undefined), { timeoutMs: TTL * 1000 });
      const now = await runningOn();
      assert.notEqual(now, host);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The thawed agent must not start its old copy again.
    await waitFor('thawed agent registered again', async () => {
      const r = await flotctl(env, ['list-machines', '--no-legend']);
      return r.stdout.trim().split('\n').length === 3 ? true : undefined;
    }, { timeoutMs: (TTL + 4) * 1000 });
    await runningOn();
  } finally {
    sampler.stop();
  }
  assert.ok(sampler.samples > 20, `only ${sampler.samples} samples`);
  assert.deepEqual(sampler.violations, []);
});

test('a crashed agent restarted by systemd within the deadline keeps its singleton running', async () => {
  const host = await runningOn();
  const pid = await cluster.flotilladPid(host);
  process.kill(pid, 'SIGKILL');
  await waitFor('flotillad restarted', async () => {
    const p = await cluster.flotilladPid(host);
    return p > 0 && p !== pid ? true : undefined;
  }, { timeoutMs: 5000 });
  const sampler = new Sampler('single.service');
  sampler.start();
  try {
    const deadline = Date.now() + (TTL + 1) * 1000;
    await waitFor('a full TTL passes', async () => (Date.now() > deadline ? true : undefined), { timeoutMs: (TTL + 2) * 1000 });
    assert.equal(await runningOn(), host);
  } finally {
    sampler.stop();
  }
  assert.deepEqual(sampler.violations, []);
});
