/**
 * Scale benchmark: N real agents (the project's Agent code, its presence
 * lease, bids, reconciler and reporter) and the real engine, all in this
 * process, against a real etcd. The one STAND-IN is the unit manager: an
 * in-memory one instead of systemd (MemoryUnitManager), so a thousand agents
 * fit on a 2-core machine. Unit files are really written to each agent's
 * units directory (tmpfs).
 *
 *   npm run bench:scale -- --agents 100 --units 1000
 *   npm run bench:scale -- --agents 1000 --units 10000
 *
 * Prints time until every unit is placed and until every unit reports
 * active, placements per second, etcd requests per placement and watch
 * events per agent.
 */
import { mkdtemp } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startEtcd } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { Agent } from '../../src/agent/agent.js';
import { Engine } from '../../src/engine/engine.js';
import { Election } from '../../src/engine/election.js';
import { UnitFile } from '../../src/unit/index.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { encode } from '../../src/registry/records.js';
import { MemoryUnitManager } from '../support/memory-unit-manager.js';
import { readCounters } from './support/etcd-metrics.js';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '100' }, units: { type: 'string', default: '1000' } } });
const AGENTS = Number(values.agents);
const UNITS = Number(values.units);

function machineId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

async function main(): Promise<void> {
  const dir = await mkdtemp('/dev/shm/fl-scale-');
  const etcd = await startEtcd({ dir: `${dir}/etcd`, members: 1, fastElection: true });
  const endpoint = etcd.endpoints[0] as string;
  // A few client connections shared by the agents, as a few processes would.
  const clients = Array.from({ length: Math.min(8, AGENTS) }, () => connectStore({ endpoints: etcd.endpoints }));
  const log = silentLogger();
  const agents: Agent[] = [];
  // A benchmark stopped from outside must not leave its etcd behind.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void etcd.stop().finally(() => process.exit(130)));
  }
  try {
    const t0 = performance.now();
    for (let i = 0; i < AGENTS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, AGENTS - i) }, async (_, j) => {
          const n = i + j;
          const registry = new Registry(clients[n % clients.length]!, '/scale/');
          const agent = new Agent({
            registry,
            machine: { id: machineId(n), publicIP: `127.1.${n >> 8}.${n & 255}`, metadata: {}, version: 'bench' },
            ttlSeconds: 10,
            unitsDirectory: `${dir}/a${n}`,
            manager: new MemoryUnitManager(),
            log,
          });
          await agent.start();
          agents.push(agent);
        }),
      );
    }
    const registry = new Registry(clients[0]!, '/scale/');
    const engine = new Engine({ registry, log: process.env.ENGINE_LOG ? createLogger({ level: 'debug', name: 'engine' }) : log });
    const election = new Election(registry.etcd, registry.keys, machineId(0), log);
    election.on('elected', (fence) => void engine.lead(fence));
    const first = agents[0];
    if (!first?.presence.leaseId) throw new Error('no agent lease');
    await election.campaign(first.presence.leaseId);
    await waitFor('engine elected', () => (election.isLeader ? true : undefined), { timeoutMs: 10_000 });
    console.log(`${AGENTS} agents up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Submit all units (inactive), then launch them all at once.
    const file = UnitFile.parse('[Service]\nExecStart=/bin/sleep infinity\n');
    const hash = file.hash();
    await registry.etcd.put(registry.keys.content(hash)).value(file.serialize()).exec();
    const names = Array.from({ length: UNITS }, (_, i) => `u${String(i).padStart(6, '0')}.service`);
    for (let i = 0; i < names.length; i += 100) {
      await registry.etcd.if(registry.keys.content(hash), 'Create', '>', 0)
        .then(...names.slice(i, i + 100).map((name) => registry.etcd.put(registry.keys.unit(name)).value(encode({ name, hash, desired: 'inactive' }))))
        .commit();
    }
    const before = await readCounters(endpoint);
    const start = performance.now();
    for (let i = 0; i < names.length; i += 100) {
      await registry.etcd.if(registry.keys.content(hash), 'Create', '>', 0)
        .then(...names.slice(i, i + 100).map((name) => registry.etcd.put(registry.keys.unit(name)).value(encode({ name, hash, desired: 'launched' }))))
        .commit();
    }
    const written = performance.now();
    await waitFor('all units placed', async () => ((await registry.etcd.getAll().prefix(registry.keys.assignmentsPrefix).count()) >= UNITS ? true : undefined), { timeoutMs: 600_000, intervalMs: 100 });
    const placed = performance.now();
    await waitFor('all units active', async () => ((await registry.etcd.getAll().prefix(registry.keys.statesPrefix).count()) >= UNITS ? true : undefined), { timeoutMs: 600_000, intervalMs: 100 });
    const active = performance.now();
    const after = await readCounters(endpoint);

    const assignments = await registry.listAssignments();
    const perMachine = new Map<string, number>();
    for (const a of assignments) perMachine.set(a.machineId, (perMachine.get(a.machineId) ?? 0) + 1);
    const loads = [...perMachine.values()];
    const s = (ms: number) => (ms / 1000).toFixed(2);
    console.log(`scale: ${AGENTS} agents x ${UNITS} units (unit manager: in-memory stand-in for systemd; etcd: 1 member, tmpfs, no fsync)`);
    console.log(`  desired states written in      ${s(written - start)} s`);
    console.log(`  all placed after               ${s(placed - start)} s   (${Math.round(UNITS / ((placed - start) / 1000))} placements/s; target 10,000 over 1,000 agents <= 10 s)`);
    console.log(`  all reported active after      ${s(active - start)} s`);
    console.log(`  etcd requests per placement    ${((after.requests - before.requests) / UNITS).toFixed(2)}   (all roles, includes the ${UNITS} desired-state puts in ${Math.ceil(UNITS / 100)} txns)`);
    console.log(`  watch events per agent         ${((after.watchEvents - before.watchEvents) / AGENTS).toFixed(1)}   (etcd events sent to all watchers / agents)`);
    console.log(`  units per machine              min ${Math.min(...loads)} max ${Math.max(...loads)} over ${loads.length} machines`);
  } finally {
    await Promise.all(agents.map((a) => a.stop({ keepUnits: true }).catch(() => undefined)));
    for (const c of clients) c.close();
    await etcd.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
