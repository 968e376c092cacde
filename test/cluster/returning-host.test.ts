/**
 * A keep host that comes back must not stop its copies before their
 * replacements are active (fleet bug #1690). A host running OnDisconnect=keep
 * units is cut off from etcd (blackhole) until the engine has released its
 * units after its lease expired, and let back at once: the replacements are
 * still starting (each unit spends 3 s in ExecStartPre). A sampler reads
 * every host's systemd every 50 ms: in no sample may a unit be active nowhere,
 * so the returning host's copy must stop only after the replacement is active.
 * A global unit there is not replaced by its copies elsewhere: it keeps
 * running (same MainPID) until the engine assigns it to the host again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IKeyValue, Watcher } from 'etcd3';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { connectStore } from '../../src/registry/store.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { HostSystemd } from '../support/host-systemd.js';
import { hostUnit } from '../support/hosts.js';

const TTL = 3;
const START_PRE_S = 3;
const UNITS = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((u) => `${u}.service`);
const GLOBAL = 'everywhere.service';

let cluster: LocalCluster;
let env: Record<string, string>;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-return-'), hosts: 3, ttlSeconds: TTL, etcdProxy: true });
  env = cluster.flotctlEnv();
  const work = await mkdtemp('/tmp/fl-units-');
  for (const u of UNITS) await writeFile(join(work, u), `[Service]\nExecStartPre=/bin/sleep ${START_PRE_S}\nExecStart=/bin/sleep infinity\n`);
  await writeFile(join(work, GLOBAL), '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n');
  const r = await flotctl(env, ['start', '--no-block', ...UNITS, GLOBAL], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
});

/** Samples which hosts have each unit active (not merely starting), every 50 ms. */
class ActiveSampler {
  samples = 0;
  /** unit -> [ms, hosts with it active] per sample */
  readonly timeline = new Map<string, Array<{ at: number; on: number[] }>>();
  private readonly systemd = new HostSystemd(cluster, (u) => UNITS.includes(u));
  private running: Promise<void> | undefined;
  private stopped = false;

  start(): void {
    this.running ??= (async () => {
      while (!this.stopped) {
        const views = await this.systemd.viewAll();
        if (views.every((v) => v.running)) {
          this.samples++;
          for (const u of UNITS) {
            const on = views.filter((v) => v.running?.get(u)?.active === 'active').map((v) => v.host);
            this.timeline.set(u, [...(this.timeline.get(u) ?? []), { at: Date.now(), on }]);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.systemd.close();
  }
}

async function activeOn(unit: string): Promise<number[]> {
  const systemd = new HostSystemd(cluster, (u) => u === unit);
  try {
    return (await systemd.viewAll()).filter((v) => v.running?.get(unit)?.active === 'active').map((v) => v.host);
  } finally {
    systemd.close();
  }
}

test('a returning keep host stops its copies only once their replacements are active', async () => {
  for (const u of UNITS) await waitFor(`${u} active on one host`, async () => ((await activeOn(u)).length === 1 ? true : undefined), { timeoutMs: 20_000 });
  const engine = await cluster.engineHost();
  const placement = new Map<string, number>();
  for (const u of UNITS) placement.set(u, (await activeOn(u))[0] as number);
  // A host that is not the engine (no election in the way) and runs some of the units.
  const host = cluster.hosts.map((_, i) => i).find((i) => i !== engine && [...placement.values()].includes(i));
  assert.ok(host !== undefined, `no non-engine host runs a unit: ${JSON.stringify([...placement])}`);
  const mine = UNITS.filter((u) => placement.get(u) === host);
  const machineId = cluster.hosts[host]?.machineId ?? '';
  const logPath = cluster.hosts[host]?.logPath ?? '';
  await waitFor(`${GLOBAL} active on every host`, async () => ((await activeOn(GLOBAL)).length === cluster.hosts.length ? true : undefined), { timeoutMs: 10_000 });
  const globalBefore = await hostUnit(cluster, host, GLOBAL);

  const store = connectStore({ endpoints: cluster.endpoints });
  const sampler = new ActiveSampler();
  let released: Watcher | undefined;
  try {
    sampler.start();
    // Let the host back the moment the engine has released its units: their replacements are just starting.
    const prefix = new Keys(cluster.prefix).machineAssignmentsPrefix(machineId);
    released = await store.watch().prefix(prefix).create();
    const gone = new Set<string>();
    const allReleased = new Promise<void>((resolve) => {
      released?.on('delete', (kv: IKeyValue) => {
        gone.add(kv.key.toString().slice(prefix.length));
        if (mine.every((u) => gone.has(u))) resolve();
      });
    });
    const cutAt = Date.now();
    cluster.partition(host, 'blackhole');
    await Promise.race([allReleased, new Promise((_, reject) => setTimeout(() => reject(new Error('units not released within 4 x TTL')), 4 * TTL * 1000))]);
    cluster.heal(host);
    console.log(`# host ${host + 1} (${mine.join(', ')}) cut off for ${Date.now() - cutAt} ms, until the engine released its units`);

    for (const u of mine) {
      await waitFor(`${u} active on exactly one other host`, async () => {
        const on = await activeOn(u);
        return on.length === 1 && on[0] !== host ? true : undefined;
      }, { timeoutMs: (START_PRE_S + 3 * TTL) * 1000 });
    }
    await waitFor(`${GLOBAL} assigned to host ${host + 1} again and reported from every host`, async () => {
      const list = rows((await flotctl(env, ['list-units', '--no-legend', '-l', '--fields', 'unit,machine,active'])).stdout);
      const on = list.filter((row) => row[0] === GLOBAL && row[2] === 'active');
      return on.length === cluster.hosts.length && on.some((row) => row[1]?.startsWith(machineId)) ? true : undefined;
    }, { timeoutMs: 3 * TTL * 1000 });
  } finally {
    cluster.heal(host);
    await released?.cancel().catch(() => undefined);
    await sampler.stop();
    store.close();
  }

  assert.ok(sampler.samples >= 40, `only ${sampler.samples} samples`);
  for (const u of mine) {
    const timeline = sampler.timeline.get(u) ?? [];
    const nowhere = timeline.filter((s) => s.on.length === 0);
    assert.deepEqual(nowhere.map((s) => new Date(s.at).toISOString()), [], `${u} was active nowhere in ${nowhere.length} samples`);
    const both = timeline.filter((s) => s.on.includes(host) && s.on.length > 1);
    console.log(`# ${u}: active on host ${host + 1} and on its replacement's host together in ${both.length} samples`);
  }
  const globalAfter = await hostUnit(cluster, host, GLOBAL);
  assert.equal(globalAfter.active, 'active');
  assert.equal(globalAfter.mainPid, globalBefore.mainPid, `${GLOBAL} was restarted on the returning host`);
  // The returning agent said why it stopped each copy.
  const log = await readFile(logPath, 'utf8');
  for (const u of mine) assert.match(log, new RegExp(`handover over: stopping this copy .*unit=${u.replace('.', '\\.')} reason="replacement active on`));
});
