/**
 * Benchmark: how long failures take to heal, at agent TTL 10 s and 3 s, on a
 * real 4-host cluster with a 3-member etcd (fast election flags, and
 * --unsafe-no-fsync: see src/dev/etcd.ts). Prints figures; asserts nothing.
 *
 *   npm run bench:failover            (REPS=3 runs per figure; TTLS=10,3)
 *
 * - host power loss (a non-engine host): kill -> each of its units active on another host
 * - flotillad SIGSTOP (agent gone past its TTL, units left running): SIGSTOP -> units active
 *   elsewhere; then SIGCONT -> the stale copies on that host stopped
 * - flotillad SIGKILL (systemd restarts it): kill -> agent registered again; units moved (should be 0)
 * - engine host power loss: kill -> another engine elected; kill -> a unit launched right after
 *   the kill active somewhere
 * Times are from the fault to the first 25 ms poll of every host's systemd that shows the result.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { hostUnit } from '../support/hosts.js';
import { formatFigure, Observer, type Figure } from './failover-cluster.js';

const REPS = Number(process.env.REPS ?? 3);
const TTLS = (process.env.TTLS ?? '10,3').split(',').map(Number);
const HOSTS = 4;
const UNITS = 8;

interface Bench {
  cluster: LocalCluster;
  obs: Observer;
  ttl: number;
  figures: Map<string, Figure>;
  counts: Map<string, number[]>;
}

const abort = new AbortController();

function record(b: Bench, label: string, ms: number | undefined): void {
  let f = b.figures.get(label);
  if (!f) b.figures.set(label, (f = { label, ms: [] }));
  f.ms.push(ms);
}

function count(b: Bench, label: string, n: number): void {
  const list = b.counts.get(label) ?? [];
  list.push(n);
  b.counts.set(label, list);
}

async function settle(b: Bench): Promise<void> {
  if (abort.signal.aborted) throw new Error('interrupted');
  await waitFor('cluster settled (every unit placed once, every agent registered, an engine)', async () => ((await b.obs.settled()) ? true : undefined), {
    timeoutMs: 60_000 + 4 * b.ttl * 1000,
    intervalMs: 100,
  });
}

/** A host with units that is not the engine, so engine failover does not blur the figure. */
async function victim(b: Bench): Promise<number> {
  const engine = await b.cluster.engineHost();
  const p = await b.obs.placement();
  const candidates = b.cluster.hosts.map((_, i) => i).filter((i) => i !== engine && b.obs.unitsOn(p, i).length > 0);
  if (candidates.length === 0) throw new Error('no non-engine host runs a unit');
  return candidates[0] as number;
}

function others(b: Bench, host: number): number[] {
  return b.cluster.hosts.map((_, i) => i).filter((i) => i !== host);
}

const limit = (b: Bench) => 6 * b.ttl * 1000 + 20_000;

async function movedAway(b: Bench, t0: number, units: string[], survivors: number[]): Promise<number | undefined> {
  return b.obs.until(t0, limit(b), async () => {
    const p = await b.obs.placement(survivors);
    return units.every((u) => (p.get(u)?.length ?? 0) >= 1);
  });
}

async function powerLoss(b: Bench): Promise<void> {
  const host = await victim(b);
  const units = b.obs.unitsOn(await b.obs.placement(), host);
  const t0 = performance.now();
  await b.cluster.killHost(host);
  record(b, 'host power loss -> its units active elsewhere', await movedAway(b, t0, units, others(b, host)));
  await b.cluster.restartHost(host);
}

async function agentStop(b: Bench): Promise<void> {
  const host = await victim(b);
  const units = b.obs.unitsOn(await b.obs.placement(), host);
  const t0 = performance.now();
  await b.cluster.pauseAgent(host);
  record(b, 'flotillad SIGSTOP -> its units active elsewhere', await movedAway(b, t0, units, others(b, host)));
  const t1 = performance.now();
  await b.cluster.resumeAgent(host);
  record(b, '  then SIGCONT -> stale copies on that host stopped', await b.obs.until(t1, limit(b), async () => {
    const p = await b.obs.placement([host]);
    return units.every((u) => (p.get(u)?.length ?? 0) === 0);
  }));
}

async function agentKill(b: Bench): Promise<void> {
  const host = await victim(b);
  const before = await b.obs.placement();
  const mine = b.obs.unitsOn(before, host);
  const pids = await Promise.all(mine.map(async (u) => (await hostUnit(b.cluster, host, u)).mainPid));
  const machine = b.cluster.hosts[host]?.machineId ?? '?';
  const key = b.obs.registry.keys.machine(machine);
  const rev = Number((await b.obs.registry.etcd.get(key).exec()).kvs[0]?.mod_revision ?? 0);
  const t0 = performance.now();
  await b.cluster.killAgent(host);
  record(b, 'flotillad SIGKILL -> agent registered again', await b.obs.until(t0, limit(b), async () => {
    const kv = (await b.obs.registry.etcd.get(key).exec()).kvs[0];
    return kv !== undefined && Number(kv.mod_revision) > rev;
  }));
  // Adoption must not move or restart anything: look again once the old lease would have expired.
  await new Promise((r) => setTimeout(r, (b.ttl + 1) * 1000));
  const after = await b.obs.placement();
  const moved = [...before].filter(([u, on]) => (after.get(u) ?? []).join() !== on.join()).length;
  const now = await Promise.all(mine.map(async (u) => (await hostUnit(b.cluster, host, u)).mainPid));
  const restarted = now.filter((pid, i) => pid !== pids[i]).length;
  count(b, 'flotillad SIGKILL -> units moved to another host', moved);
  count(b, 'flotillad SIGKILL -> units restarted in place', restarted);
}

async function engineLoss(b: Bench, rep: number): Promise<void> {
  const host = await b.cluster.engineHost();
  if (host === undefined) throw new Error('no engine');
  const old = b.cluster.hosts[host]?.machineId;
  const name = `next-${b.ttl}-${rep}.service`;
  const t0 = performance.now();
  await b.cluster.killHost(host);
  const elected = b.obs.until(t0, limit(b), async () => {
    const now = await b.cluster.engineHost().catch(() => undefined);
    return now !== undefined && b.cluster.hosts[now]?.machineId !== old;
  });
  await b.obs.launch(name);
  const placed = b.obs.until(t0, limit(b), async () => ((await b.obs.placement(others(b, host))).get(name)?.length ?? 0) === 1);
  const [electedMs, placedMs] = await Promise.all([elected, placed]);
  record(b, 'engine host power loss -> another engine elected', electedMs);
  record(b, 'engine host power loss -> unit launched after it active', placedMs);
  await b.cluster.restartHost(host);
}

async function benchTtl(ttl: number): Promise<Bench> {
  const dir = await mkdtemp('/tmp/fl-fo-');
  const cluster = await LocalCluster.start({ dir, hosts: HOSTS, ttlSeconds: ttl, etcdMembers: 3, fastElection: true });
  const obs = new Observer(cluster, abort.signal);
  const b: Bench = { cluster, obs, ttl, figures: new Map(), counts: new Map() };
  try {
    for (let i = 1; i <= UNITS; i++) await obs.launch(`fo-${i}.service`);
    for (let rep = 1; rep <= REPS; rep++) {
      for (const scenario of [powerLoss, agentStop, agentKill, (x: Bench) => engineLoss(x, rep)]) {
        await settle(b);
        await scenario(b);
      }
      process.stderr.write(`# TTL ${ttl} s: run ${rep}/${REPS} done\n`);
    }
    return b;
  } finally {
    obs.close();
    await cluster.down();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: Bench[] = [];
  for (const ttl of TTLS) results.push(await benchTtl(ttl));
  console.log(`failover, ${HOSTS} hosts, 3-member etcd (fast election, no fsync), ${UNITS} units, ${REPS} runs per figure; times from the fault, seen in every host's systemd (25 ms polls)`);
  for (const b of results) {
    console.log(`agent_ttl ${b.ttl} s (issue 4 target for engine failover: TTL + 1 = ${b.ttl + 1} s)`);
    for (const f of b.figures.values()) console.log(formatFigure(f));
    for (const [label, n] of b.counts) console.log(`  ${label.padEnd(58)} per run: ${n.join(', ')}`);
  }
}

// Ctrl-C: the current wait throws and the finally blocks tear the cluster down.
process.on('SIGINT', () => {
  process.stderr.write('interrupted: tearing the cluster down\n');
  abort.abort();
});

main().then(
  () => process.exit(abort.signal.aborted ? 130 : 0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(abort.signal.aborted ? 130 : 1);
  },
);
