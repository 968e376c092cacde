/**
 * Scale benchmark: N real agents (the project's Agent code: presence lease,
 * bids, reconciler and reporter) and the real engine against a real etcd.
 * The one STAND-IN is the unit manager: an in-memory one instead of systemd
 * (MemoryUnitManager), so a thousand agents fit on a 2-core machine. Unit
 * files are really written to each agent's units directory (tmpfs).
 *
 * The agents run in `--agent-processes` forked processes (default 2; 0 runs
 * them in this process, beside the engine); the engine always runs here.
 *
 *   npm run bench:scale -- --agents 100 --units 1000
 *   npm run bench:scale -- --agents 1000 --units 10000                  # target: all placed <= 2 s
 *   npm run bench:scale -- --agents 1000 --units 50000                  # target: all placed <= 10 s
 *   npm run bench:scale -- --agents 1000 --units 10000 --contents 100   # 100 distinct unit files
 *   npm run bench:scale -- ... --host-checks        # every file has a Condition: every agent reads every content
 *   npm run bench:scale -- ... --profile /tmp/scale                       # CPU profiles of the measured phase
 *
 * Prints time until every unit is placed and until every unit reports
 * active, placements per second, etcd requests per placement (and by
 * method), engine rounds, watch events per agent and the CPU each process
 * and etcd used while measured.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEtcd } from '../../src/dev/etcd.js';
import { connectStore } from '../../src/registry/store.js';
import { Registry } from '../../src/registry/registry.js';
import { Engine } from '../../src/engine/engine.js';
import { Election } from '../../src/engine/election.js';
import { UnitFile } from '../../src/unit/index.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { waitFor } from '../../src/util/deadline.js';
import { encode } from '../../src/registry/records.js';
import { methodBreakdown, readCounters } from './support/etcd-metrics.js';
import { machineId, startAgents, type AgentHostCommand, type AgentHostConfig, type AgentHostMessage } from './support/agent-host.js';
import { startProfile } from './support/profile.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '100' },
    units: { type: 'string', default: '1000' },
    /** Distinct unit files the units are spread over (1: all instances of one file). */
    contents: { type: 'string', default: '1' },
    /** Give every unit file a Condition line, so every agent must fetch, parse and check every content. */
    'host-checks': { type: 'boolean', default: false },
    'agent-processes': { type: 'string', default: '2' },
    /** Write CPU profiles of the measured phase (launch to all active) to PREFIX-engine.cpuprofile, PREFIX-agents-N.cpuprofile. */
    profile: { type: 'string' },
  },
});
const AGENTS = Number(values.agents);
const UNITS = Number(values.units);
const CONTENTS = Math.max(1, Math.min(UNITS, Number(values.contents)));
const PROCESSES = Math.max(0, Math.min(AGENTS, Number(values['agent-processes'])));
const PREFIX = '/scale/';

/** The agents, wherever they run. */
interface AgentFleet {
  measure(): void;
  /** CPU seconds per agent process since measure(); profiles written if asked. */
  report(): Promise<number[]>;
  stop(): Promise<void>;
}

/** Every key under `prefix`, read in pages: 50,000 assignments in one range are over gRPC's 4 MB message limit. */
async function keysUnder(registry: Registry, prefix: string): Promise<string[]> {
  const out: string[] = [];
  const end = Buffer.from(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
  let from = Buffer.from(prefix);
  for (;;) {
    const res = await registry.etcd.kv.range({ key: from, range_end: end, limit: 5000, keys_only: true });
    for (const kv of res.kvs) out.push(kv.key.toString());
    if (!res.more || res.kvs.length === 0) return out;
    from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
  }
}

function partition(n: number, parts: number): number[][] {
  const out: number[][] = Array.from({ length: parts }, () => []);
  for (let i = 0; i < n; i++) out[i % parts]!.push(i);
  return out;
}

async function forkAgents(base: Omit<AgentHostConfig, 'agents'>): Promise<AgentFleet> {
  const script = fileURLToPath(new URL('./support/agent-host.js', import.meta.url));
  const children: ChildProcess[] = [];
  const inbox = new Map<ChildProcess, AgentHostMessage[]>();
  const next = (c: ChildProcess, type: AgentHostMessage['type']): Promise<AgentHostMessage> =>
    waitFor(`agent process ${c.pid}: ${type}`, () => {
      const box = inbox.get(c) ?? [];
      const failed = box.find((m) => m.type === 'failed');
      if (failed?.type === 'failed') throw new Error(`agent process failed: ${failed.error}`);
      const i = box.findIndex((m) => m.type === type);
      return i < 0 ? undefined : box.splice(i, 1)[0];
    }, { timeoutMs: 120_000, intervalMs: 20 });
  const send = (c: ChildProcess, m: AgentHostCommand) => c.send(m);
  for (const agents of partition(AGENTS, PROCESSES)) {
    const c = fork(script, [JSON.stringify({ ...base, agents })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    inbox.set(c, []);
    c.on('message', (m: AgentHostMessage) => inbox.get(c)!.push(m));
    children.push(c);
  }
  const killAll = () => { for (const c of children) c.kill('SIGKILL'); };
  process.once('exit', killAll);
  try {
    await Promise.all(children.map((c) => next(c, 'ready')));
  } catch (err) {
    killAll();
    throw err;
  }
  return {
    measure: () => { for (const c of children) send(c, { type: 'measure' }); },
    async report() {
      children.forEach((c, i) => send(c, { type: 'report', ...(values.profile ? { profile: `${values.profile}-agents-${i}.cpuprofile` } : {}) }));
      return Promise.all(children.map(async (c) => ((await next(c, 'cpu')) as { seconds: number }).seconds));
    },
    async stop() {
      for (const c of children) send(c, { type: 'stop' });
      await Promise.all(children.map((c) => next(c, 'stopped').catch(() => c.kill('SIGKILL'))));
    },
  };
}

async function inProcessAgents(base: Omit<AgentHostConfig, 'agents'>): Promise<AgentFleet> {
  const running = await startAgents({ ...base, agents: Array.from({ length: AGENTS }, (_, i) => i) });
  return { measure: () => undefined, report: async () => [], stop: () => running.stop() };
}

/** Unit file number i of CONTENTS: they differ in their Description only. */
function unitFile(i: number): UnitFile {
  const check = values['host-checks'] ? 'ConditionPathExists=/tmp\n' : '';
  return UnitFile.parse(`[Unit]\nDescription=scale ${i}\n${check}\n[Service]\nExecStart=/bin/sleep infinity\n`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp('/dev/shm/fl-scale-');
  const etcd = await startEtcd({ dir: `${dir}/etcd`, members: 1, fastElection: true });
  const endpoint = etcd.endpoints[0] as string;
  const client = connectStore({ endpoints: etcd.endpoints });
  const log = silentLogger();
  let fleet: AgentFleet | undefined;
  // A benchmark stopped from outside must not leave its etcd, agent processes or files (tmpfs: memory) behind.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void etcd.stop().finally(() => rm(dir, { recursive: true, force: true })).finally(() => process.exit(130)));
  }
  try {
    const t0 = performance.now();
    const base = { endpoints: etcd.endpoints, prefix: PREFIX, dir, connections: 8, profile: values.profile !== undefined };
    fleet = PROCESSES === 0 ? await inProcessAgents(base) : await forkAgents({ ...base, connections: Math.ceil(8 / PROCESSES) });
    const registry = new Registry(client, PREFIX);
    const engine = new Engine({ registry, log: process.env.ENGINE_LOG ? createLogger({ level: 'debug', name: 'engine' }) : log });
    const election = new Election(registry, machineId(AGENTS), log);
    election.on('elected', (fence) => void engine.lead(fence));
    const engineLease = registry.etcd.lease(10);
    await election.campaign(await engineLease.grant());
    await waitFor('engine elected', () => (election.isLeader ? true : undefined), { timeoutMs: 10_000 });
    const where = PROCESSES === 0 ? 'in the engine\'s process' : `in ${PROCESSES} processes beside the engine's`;
    console.log(`${AGENTS} agents up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${where})`);

    // Submit all units (inactive), then launch them all at once.
    const files = Array.from({ length: CONTENTS }, (_, i) => unitFile(i));
    const hashes = files.map((f) => f.hash());
    for (let i = 0; i < files.length; i += 100) {
      await registry.etcd.kv.txn({
        compare: [],
        success: files.slice(i, i + 100).map((f, j) => ({ request_put: { key: Buffer.from(registry.keys.content(hashes[i + j]!)), value: Buffer.from(f.serialize()) } })),
        failure: [],
      });
    }
    const names = Array.from({ length: UNITS }, (_, i) => `u${String(i).padStart(6, '0')}.service`);
    const record = (i: number, desired: 'inactive' | 'launched') => encode({ name: names[i], hash: hashes[i % CONTENTS], desired });
    const submit = async (desired: 'inactive' | 'launched') => {
      for (let i = 0; i < names.length; i += 100) {
        await registry.etcd.kv.txn({
          compare: [],
          success: names.slice(i, i + 100).map((name, j) => ({ request_put: { key: Buffer.from(registry.keys.unit(name)), value: Buffer.from(record(i + j, desired)) } })),
          failure: [],
        });
      }
    };
    await submit('inactive');

    const profiler = values.profile ? await startProfile() : undefined;
    fleet.measure();
    const before = await readCounters(endpoint);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await submit('launched');
    const written = performance.now();
    await waitFor('all units placed', async () => ((await registry.etcd.getAll().prefix(registry.keys.assignmentsPrefix).count()) >= UNITS ? true : undefined), { timeoutMs: 600_000, intervalMs: 100 });
    const placed = performance.now();
    await waitFor('all units active', async () => ((await registry.etcd.getAll().prefix(registry.keys.statesPrefix).count()) >= UNITS ? true : undefined), { timeoutMs: 600_000, intervalMs: 100 });
    const active = performance.now();
    const after = await readCounters(endpoint);
    const cpu = process.cpuUsage(cpuBefore);
    const agentCpu = await fleet.report();
    if (profiler && values.profile) await profiler.stop(`${values.profile}-engine.cpuprofile`);

    const perMachine = new Map<string, number>();
    for (const key of await keysUnder(registry, registry.keys.assignmentsPrefix)) {
      const at = registry.keys.assignmentOfKey(key);
      if (at) perMachine.set(at.machineId, (perMachine.get(at.machineId) ?? 0) + 1);
    }
    const loads = [...perMachine.values()];
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const t = engine.stats.totals();
    const agentCpuText = agentCpu.length > 0 ? `, agent processes ${agentCpu.map((c) => c.toFixed(2)).join(' + ')} s` : '';
    const checks = values['host-checks'] ? ', each with a Condition every host checks' : '';
    console.log(`scale: ${AGENTS} agents x ${UNITS} units, ${CONTENTS} distinct unit file(s)${checks} (unit manager: in-memory stand-in for systemd; etcd: 1 member, tmpfs, no fsync)`);
    console.log(`  desired states written in      ${s(written - start)} s   (${Math.ceil(UNITS / 100)} sequential txns of 100)`);
    console.log(`  all placed after               ${s(placed - start)} s   (${Math.round(UNITS / ((placed - start) / 1000))} placements/s; targets: 10,000 over 1,000 agents <= 2 s, 50,000 <= 10 s)`);
    console.log(`  all reported active after      ${s(active - start)} s`);
    console.log(`  etcd requests per placement    ${((after.requests - before.requests) / UNITS).toFixed(2)}   (all roles, includes the ${UNITS} desired-state puts in ${Math.ceil(UNITS / 100)} txns)`);
    console.log(`  etcd requests by method        ${methodBreakdown(before, after)}   (includes this benchmark's polling)`);
    console.log(`  engine rounds                  ${t.rounds} (${t.bids} bids, ${t.unitsOffered} units offered; ${t.unitsPlacedDirectly} units placed directly, without a round)`);
    console.log(`  watch events per agent         ${((after.watchEvents - before.watchEvents) / AGENTS).toFixed(1)}   (etcd events sent to all watchers / agents)`);
    console.log(`  CPU while measured             engine process ${s((cpu.user + cpu.system) / 1000)} s${agentCpuText}, etcd ${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s, over ${s(active - start)} s on 2 cores`);
    console.log(`  units per machine              min ${Math.min(...loads)} max ${Math.max(...loads)} over ${loads.length} machines`);
    if (values.profile) console.log(`  CPU profiles of the measured phase: ${values.profile}-*.cpuprofile`);
    await engine.stepDown();
    await engineLease.revoke().catch(() => undefined);
  } finally {
    await fleet?.stop();
    client.close();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
