/**
 * Benchmark: 100 units started at once on a real 3-host cluster, against the
 * floor of starting the same 100 units directly on the hosts' systemd (33 or
 * 34 per host, all hosts at once: write files, link, StartUnit each, wait for
 * active). Target (the developers' guide): Flotilla <= 1.15x the direct time
 * (fleet: 3.4-4.4 s). It also prints where the time goes: when the desired
 * states were all written, when the first and last assignments and the
 * first and last active reports were seen.
 *
 *   npm run bench:batch-start            (ROUNDS=5 UNITS=100 by default)
 *
 * The Flotilla clock starts when the first desired state is written (the
 * units were submitted beforehand, as `flotctl submit` then `start` does) and
 * stops when every unit's host has reported it active.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from '../../src/registry/registry.js';
import { decodeUnitState } from '../../src/registry/records.js';
import { SystemdManager } from '../../src/systemd/manager.js';
import { UnitFile } from '../../src/unit/index.js';
import { waitFor } from '../../src/util/deadline.js';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { percentile } from './stats.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const UNITS = Number(process.env.UNITS ?? 100);
const CONTENT = '[Service]\nExecStart=/bin/sleep infinity\n';

function names(prefix: string): string[] {
  return Array.from({ length: UNITS }, (_, i) => `${prefix}-${i}.service`);
}

/** Where one batch's time went, in ms from the first desired-state write (watch events as this process saw them). */
interface Stages {
  desiredWritten: number;
  firstAssigned: number;
  lastAssigned: number;
  firstActive: number;
  allActive: number;
}

async function flotillaBatch(registry: Registry, units: string[]): Promise<Stages> {
  const file = UnitFile.parse(CONTENT);
  await Promise.all(units.map((name) => registry.putUnit({ name, hash: file.hash(), desired: 'inactive' }, file.serialize())));
  const pending = new Set(units);
  const wanted = new Set(units);
  const watcher = await registry.etcd.watch().prefix(registry.keys.statesPrefix).create();
  const assignments = await registry.etcd.watch().prefix(registry.keys.assignmentsPrefix).create();
  let t0 = 0;
  let firstAssigned = 0;
  let lastAssigned = 0;
  let firstActive = 0;
  try {
    assignments.on('put', (kv) => {
      const unit = kv.key.toString().split('/').at(-1) ?? '';
      if (!wanted.has(unit)) return;
      const at = performance.now() - t0;
      firstAssigned ||= at;
      lastAssigned = at;
    });
    const allActive = new Promise<number>((resolve) => {
      watcher.on('put', (kv) => {
        const s = decodeUnitState(kv.value.toString());
        if (s?.active !== 'active' || s.applied !== 'launched' || !pending.delete(s.unit)) return;
        firstActive ||= performance.now() - t0;
        if (pending.size === 0) resolve(performance.now());
      });
    });
    t0 = performance.now();
    await Promise.all(units.map((name) => registry.setDesiredState(name, 'launched')));
    const desiredWritten = performance.now() - t0;
    const done = (await allActive) - t0;
    return { desiredWritten, firstAssigned, lastAssigned, firstActive, allActive: done };
  } finally {
    await watcher.cancel();
    await assignments.cancel();
  }
}

async function removeAll(registry: Registry, units: string[]): Promise<void> {
  await Promise.all(units.map((n) => registry.destroyUnit(n)));
  await waitFor('destroyed units to leave their hosts', async () => ((await registry.listStates()).length === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
}

/** One host's share, started directly: files, one LinkUnitFiles, every StartUnit at once, until all active. */
async function directShare(manager: SystemdManager, dir: string, units: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(units.map((u) => writeFile(join(dir, u), CONTENT)));
  const pending = new Set(units);
  const allActive = new Promise<void>((resolve) => {
    const off = manager.onUnitChange((unit, s) => {
      if (s.active === 'active' && pending.delete(unit) && pending.size === 0) {
        off();
        resolve();
      }
    });
  });
  await manager.linkUnitFiles(units.map((u) => join(dir, u)));
  const results = await Promise.all(units.map((u) => manager.startUnit(u)));
  const failed = results.findIndex((r) => r !== 'done');
  if (failed >= 0) throw new Error(`direct start of ${units[failed]}: ${results[failed]}`);
  for (const u of units) if ((await manager.unitStatus(u)).active === 'active') pending.delete(u);
  if (pending.size > 0) await allActive;
}

async function directBatch(managers: SystemdManager[], dir: string, units: string[]): Promise<number> {
  const shares = managers.map((_, h) => units.filter((_, i) => i % managers.length === h));
  const t0 = performance.now();
  await Promise.all(managers.map((m, h) => directShare(m, join(dir, `h${h}`), shares[h] as string[])));
  return performance.now() - t0;
}

async function stopDirect(managers: SystemdManager[], units: string[]): Promise<void> {
  await Promise.all(managers.map((m, h) => Promise.all(units.filter((_, i) => i % managers.length === h).map((u) => m.stopUnit(u)))));
}

runClusterBenchmark('batch', { hosts: 3 }, async (cluster, registry) => {
  const managers = await Promise.all(cluster.hosts.map((h) => SystemdManager.connect(h.busAddress)));
  try {
    const flotilla: number[] = [];
    const stages: Stages[] = [];
    const direct: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const units = names(`batch${r}`);
      const st = await flotillaBatch(registry, units);
      stages.push(st);
      flotilla.push(st.allActive);
      await removeAll(registry, units);
      const own = names(`direct${r}`);
      direct.push(await directBatch(managers, join(cluster.dir, 'direct', String(r)), own));
      await stopDirect(managers, own);
    }
    const f = percentile(flotilla, 50);
    const d = percentile(direct, 50);
    const ms = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(`${UNITS} units at once on 3 hosts, ${ROUNDS} rounds (target: flotilla <= 1.15x systemd directly; fleet 3.4-4.4 s)`);
    console.log(`flotilla: desired written -> all active reported   median ${f.toFixed(0)} ms  [${ms(flotilla)}]`);
    console.log(`systemd directly, all hosts at once               median ${d.toFixed(0)} ms  [${ms(direct)}]`);
    console.log(`ratio ${(f / d).toFixed(2)}x`);
    // Where the time goes: the stages' medians, from the first desired-state write.
    const med = (k: keyof Stages): string => percentile(stages.map((st) => st[k]), 50).toFixed(0);
    console.log(`stages (median ms): desired states written ${med('desiredWritten')}, first assignment ${med('firstAssigned')}, last ${med('lastAssigned')}, first active ${med('firstActive')}, all active ${med('allActive')}`);
  } finally {
    for (const m of managers) m.close();
  }
});
