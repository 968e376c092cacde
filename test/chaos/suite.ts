/**
 * One chaos run: a real local cluster (3-member etcd with fast elections,
 * every agent behind its own etcd proxies), a workload of keep, stop and
 * global units launched with flotctl, then bursts of random faults, each
 * followed by a quiet period in which the cluster must converge. The checker
 * samples every host's systemd throughout. Everything is torn down on the
 * way out, whether the run ends, fails or is aborted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Registry } from '../../src/registry/registry.js';
import { connectStore } from '../../src/registry/store.js';
import { flotctl } from '../support/flotctl.js';
import { AgentCrashWatch, type AgentCrash } from './agent-crashes.js';
import { Checker, type Transition } from './checker.js';
import { EtcdCheck } from './etcd-check.js';
import { FaultLog, secs, type FaultKind, type FaultRecord } from './fault-log.js';
import { runBurst } from './faults.js';
import { Random } from './random.js';
import { planBurst, shortPartitionMaxMs } from './schedule.js';
import { writeWorkload, type UnitPolicy, type WorkloadCounts } from './units.js';
import { Violations, type Violation } from './violations.js';

export interface ChaosOptions {
  durationMs: number;
  seed: number;
  hosts: number;
  ttlSeconds: number;
  units?: WorkloadCounts;
  weights?: Partial<Record<FaultKind, number>>;
  sampleEveryMs?: number;
  say?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BurstResult {
  id: number;
  faults: FaultRecord[];
  start: number;
  /** When its last fault ended. */
  end: number;
  /** end -> first sample of a stable, correct placement; undefined if it never came. */
  recoveryMs: number | undefined;
  /** Only faults that must not move or restart anything (crash restarts, etcd member loss, short partitions). */
  transient: boolean;
  /** A whole-store outage with nothing but transient faults: keep and global units must not move or restart (stop units are fenced by design). */
  outage: boolean;
  transitions: Transition[];
}

export interface ChaosReport {
  seed: number;
  hosts: number;
  ttlSeconds: number;
  units: UnitPolicy[];
  ranMs: number;
  /** Stopped early by the caller's signal (Ctrl-C). */
  interrupted: boolean;
  initialPlacementMs: number;
  faults: FaultRecord[];
  faultCounts: Record<FaultKind, number>;
  samples: number;
  sampleEveryMs: number;
  hostErrors: number;
  maxSampleSpanMs: number;
  etcdChecks: number;
  etcdReadErrors: number;
  violations: Violation[];
  bursts: BurstResult[];
  /** flotillad restarts no injected kill explains (not an invariant of the issue, but a bug). */
  agentCrashes: AgentCrash[];
  /** Convergence bound: TTL + 2 s after the last fault of a burst ended. */
  boundMs: number;
}

const DEFAULT_UNITS: WorkloadCounts = { keep: 6, stop: 6, global: 1 };
const STABLE_MS = 2_000;
const START_TIMEOUT_MS = 60_000;

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const say = opts.say ?? (() => undefined);
  const signal = opts.signal ?? new AbortController().signal;
  const rng = new Random(opts.seed);
  const boundMs = (opts.ttlSeconds + 2) * 1000;
  // Long enough to measure a slow recovery, not only to flag it.
  const settleCapMs = Math.max(30_000, 4 * boundMs);
  const sampleEveryMs = opts.sampleEveryMs ?? 200;
  const dir = await mkdtemp('/tmp/fl-chaos-');
  const unitDir = await mkdtemp('/tmp/fl-chaos-units-');
  let cluster: LocalCluster | undefined;
  let checker: Checker | undefined;
  let violations: Violations | undefined;
  let etcdCheck: EtcdCheck | undefined;
  try {
    say(`seed ${opts.seed}: ${opts.hosts} hosts, 3 etcd members (fast election), TTL ${opts.ttlSeconds} s, dir ${dir}`);
    cluster = await LocalCluster.start({
      dir, hosts: opts.hosts, ttlSeconds: opts.ttlSeconds, etcdMembers: 3, fastElection: true, etcdProxy: true,
    });
    const units = await writeWorkload(unitDir, opts.units ?? DEFAULT_UNITS);
    const faults = new FaultLog();
    violations = new Violations(faults);
    const launched = await flotctl(cluster.flotctlEnv(), ['start', '--no-block', ...units.map((u) => u.name)], { cwd: unitDir });
    if (launched.code !== 0) throw new Error(`flotctl start failed (${launched.code}): ${launched.stderr.trim()}`);
    await adoptStoredHashes(cluster, units, say);

    checker = new Checker(cluster, units, faults, violations, sampleEveryMs);
    etcdCheck = new EtcdCheck(cluster.endpoints, cluster.prefix, units, faults, violations);
    checker.start();
    etcdCheck.start();
    const first = await checker.awaitSettled(0, STABLE_MS, START_TIMEOUT_MS, signal);
    if (signal.aborted) throw new Error('aborted before the faults began');
    if (first.recoveredAt === undefined) throw new Error(`initial placement not correct within ${START_TIMEOUT_MS} ms: ${first.wrong.join('; ')}`);
    say(`workload placed at +${secs(first.recoveredAt)}: ${units.length} units; faults start`);

    const bursts: BurstResult[] = [];
    const agentCrashes: AgentCrash[] = [];
    const crashWatch = new AgentCrashWatch(cluster);
    const runStart = faults.now();
    while (!signal.aborted && faults.now() - runStart < opts.durationMs) {
      const id = bursts.length + 1;
      const plans = planBurst(rng, { hosts: opts.hosts, etcdMembers: 3, ttlSeconds: opts.ttlSeconds, weights: opts.weights ?? {} });
      const start = faults.now();
      say(`burst ${id} at +${secs(start)}:`);
      await crashWatch.mark();
      const records = await runBurst({ cluster, log: faults, signal, say }, plans);
      const end = Math.max(start, ...records.map((r) => r.end ?? faults.now()));
      const settled = await checker.awaitSettled(end, STABLE_MS, settleCapMs, signal);
      if (signal.aborted) break;
      const recoveryMs = settled.recoveredAt === undefined ? undefined : settled.recoveredAt - end;
      const until = faults.now();
      const burst: BurstResult = {
        id,
        faults: records,
        start,
        end,
        recoveryMs,
        transient: records.every((r) => isTransient(r, opts.ttlSeconds)),
        outage: records.some((r) => r.kind === 'etcd-outage') && records.every((r) => r.kind === 'etcd-outage' || isTransient(r, opts.ttlSeconds)),
        transitions: checker.transitions.filter((t) => t.at >= start && t.at <= until),
      };
      bursts.push(burst);
      judgeConvergence(violations, burst, settled.wrong, boundMs, settleCapMs);
      const crashed = await crashWatch.crashes(id, records);
      agentCrashes.push(...crashed);
      for (const c of crashed) say(`  flotillad on ${c.host} restarted ${c.restarts} time(s), ${c.killed} by us: ${c.log.join(' | ')}`);
      say(`  ${recoveryMs === undefined ? `NOT converged after ${secs(settleCapMs)}: ${settled.wrong.join('; ')}` : `converged ${secs(recoveryMs)} after the last fault ended`}` +
        `; ${burst.transitions.filter((t) => t.kind === 'start').length} unit starts, ${burst.transitions.filter((t) => t.kind === 'stop').length} stops`);
    }
    const ranMs = faults.now() - runStart;
    await checker.stop();
    await etcdCheck.stop();
    return {
      seed: opts.seed,
      hosts: opts.hosts,
      ttlSeconds: opts.ttlSeconds,
      units,
      ranMs,
      interrupted: signal.aborted,
      initialPlacementMs: first.recoveredAt,
      faults: faults.records,
      faultCounts: faults.countByKind(),
      samples: checker.samples,
      sampleEveryMs,
      hostErrors: checker.hostErrors,
      maxSampleSpanMs: checker.maxSpanMs,
      etcdChecks: etcdCheck.checks,
      etcdReadErrors: etcdCheck.readErrors,
      violations: violations.list,
      bursts,
      agentCrashes,
      boundMs,
    };
  } finally {
    await checker?.stop().catch(() => undefined);
    await etcdCheck?.stop().catch(() => undefined);
    await cluster?.down().catch((err: unknown) => say(`teardown failed: ${String(err)}`));
    await rm(unitDir, { recursive: true, force: true });
    // Keep the hosts' flotillad logs when something went wrong: they are the evidence.
    if (violations && violations.list.length > 0) say(`violations: flotillad logs kept in ${dir}/host*/flotillad.log`);
    else if (cluster) await rm(dir, { recursive: true, force: true });
  }
}

/** flotctl computed the hashes; the checker holds the store to exactly what it wrote. */
async function adoptStoredHashes(cluster: LocalCluster, units: UnitPolicy[], say: (line: string) => void): Promise<void> {
  const registry = new Registry(connectStore({ endpoints: cluster.endpoints }), cluster.prefix);
  try {
    for (const u of units) {
      const record = await registry.getUnit(u.name);
      if (!record) throw new Error(`${u.name} is not in etcd after flotctl start`);
      if (record.hash !== u.hash) say(`note: ${u.name} stored with hash ${record.hash}, local parse gives ${u.hash}`);
      u.hash = record.hash;
    }
  } finally {
    registry.etcd.close();
  }
}

/** Faults after which nothing should have moved or restarted (README; issue 4). */
function isTransient(r: FaultRecord, ttlSeconds: number): boolean {
  if (r.kind === 'agent-kill' || r.kind === 'engine-kill' || r.kind === 'etcd-kill') return true;
  return r.kind === 'partition' && r.end !== undefined && r.end - r.start <= shortPartitionMaxMs(ttlSeconds);
}

function judgeConvergence(violations: Violations, b: BurstResult, wrong: string[], boundMs: number, capMs: number): void {
  const hosts = [...new Set(b.faults.map((f) => f.target))];
  if (b.recoveryMs === undefined) {
    violations.add('not-converged', '*', hosts, b.end, `burst ${b.id}: still wrong ${secs(capMs)} after its last fault: ${wrong.join('; ')}`);
  } else if (b.recoveryMs > boundMs) {
    violations.add('slow-convergence', '*', hosts, b.end, `burst ${b.id}: converged ${secs(b.recoveryMs)} after its last fault (bound ${secs(boundMs)}); last wrong sample: ${wrong.join('; ')}`);
  }
}
