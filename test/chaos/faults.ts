/**
 * Carries out a burst of planned faults against a LocalCluster, recording
 * each in the FaultLog. Every fault is undone in a finally block, so an
 * error or an abort (Ctrl-C) never leaves an agent stopped or a host cut off.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { errorMessage } from '../../src/util/errors.js';
import { describeFault, type FaultLog, type FaultRecord } from './fault-log.js';
import type { FaultPlan } from './schedule.js';

export interface InjectContext {
  cluster: LocalCluster;
  log: FaultLog;
  signal: AbortSignal;
  /** One line per fault as it starts, for the run's output. */
  say: (line: string) => void;
}

const RESTART_TIMEOUT_MS = 15_000;

/** A fault's duration: cut short by an abort, and leaving no listener on the signal behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs every fault of the burst; resolves once all of them have ended. */
export async function runBurst(ctx: InjectContext, plans: readonly FaultPlan[]): Promise<FaultRecord[]> {
  const records = await Promise.all(plans.map((p) => runFault(ctx, p)));
  return records.filter((r): r is FaultRecord => r !== undefined);
}

async function runFault(ctx: InjectContext, plan: FaultPlan): Promise<FaultRecord | undefined> {
  await sleep(plan.offsetMs, ctx.signal);
  if (ctx.signal.aborted) return undefined;
  switch (plan.kind) {
    case 'agent-kill':
      return killAgent(ctx, plan.kind, plan.host ?? 0);
    case 'engine-kill': {
      const host = await ctx.cluster.engineHost().catch(() => undefined);
      if (host === undefined) {
        const r = ctx.log.begin('engine-kill', 'none', 'no engine elected');
        ctx.log.end(r, 'skipped: no engine leader found');
        return r;
      }
      return killAgent(ctx, plan.kind, host);
    }
    case 'engine-stop': {
      const host = await ctx.cluster.engineHost().catch(() => undefined);
      // An engine already cut off or stopped by another fault of the burst is no longer the engine to test.
      if (host === undefined || ctx.cluster.partitioned(host) !== undefined || ctx.cluster.agentPaused(host)) {
        const r = ctx.log.begin('engine-stop', 'none', 'no reachable engine');
        ctx.log.end(r, 'skipped: no engine leader found, or it is partitioned or stopped already');
        return r;
      }
      return stopAgent(ctx, plan.kind, host, plan.durationMs);
    }
    case 'agent-stop':
      return stopAgent(ctx, plan.kind, plan.host ?? 0, plan.durationMs);
    case 'etcd-kill':
      return killMember(ctx, plan.member ?? 0, plan.durationMs);
    case 'etcd-outage':
      return outage(ctx, plan.durationMs);
    case 'partition':
      return partition(ctx, plan);
  }
}

function hostName(ctx: InjectContext, i: number): string {
  return ctx.cluster.hosts[i]?.name ?? `host${i + 1}`;
}

function started(ctx: InjectContext, r: FaultRecord): FaultRecord {
  ctx.say(`  ${describeFault(r)}`);
  return r;
}

/** SIGKILL; the fault ends when the host's systemd has a new flotillad running. */
async function killAgent(ctx: InjectContext, kind: 'agent-kill' | 'engine-kill', host: number): Promise<FaultRecord> {
  const r = started(ctx, ctx.log.begin(kind, hostName(ctx, host), 'SIGKILL flotillad'));
  let pid: number;
  try {
    pid = await ctx.cluster.killAgent(host);
  } catch (err) {
    ctx.log.end(r, `not killed: ${errorMessage(err)}`);
    return r;
  }
  try {
    await waitFor(`flotillad on ${hostName(ctx, host)} restarted`, async () => {
      const next = await ctx.cluster.flotilladPid(host);
      return next > 0 && next !== pid ? true : undefined;
    }, { timeoutMs: RESTART_TIMEOUT_MS, intervalMs: 50 });
    ctx.log.end(r);
  } catch {
    ctx.log.end(r, `systemd did not restart flotillad within ${RESTART_TIMEOUT_MS} ms`);
  }
  return r;
}

async function stopAgent(ctx: InjectContext, kind: 'agent-stop' | 'engine-stop', host: number, ms: number): Promise<FaultRecord> {
  const r = started(ctx, ctx.log.begin(kind, hostName(ctx, host), `SIGSTOP ${(ms / 1000).toFixed(1)}s`));
  if (ctx.cluster.agentPaused(host)) {
    ctx.log.end(r, 'skipped: stopped already by another fault');
    return r;
  }
  try {
    await ctx.cluster.pauseAgent(host);
  } catch (err) {
    ctx.log.end(r, `not stopped: ${errorMessage(err)}`);
    return r;
  }
  try {
    await sleep(ms, ctx.signal);
  } finally {
    const resumed = await ctx.cluster.resumeAgent(host).catch(() => false);
    ctx.log.end(r, resumed ? undefined : 'process gone before SIGCONT');
  }
  return r;
}

async function killMember(ctx: InjectContext, member: number, ms: number): Promise<FaultRecord> {
  const name = ctx.cluster.etcd.members[member]?.name ?? `s${member}`;
  const r = started(ctx, ctx.log.begin('etcd-kill', `etcd ${name}`, `SIGKILL, restart after ${(ms / 1000).toFixed(1)}s`));
  try {
    await ctx.cluster.killEtcdMember(member);
    await sleep(ms, ctx.signal);
  } finally {
    // The fault ends when the member is healthy again, not when it is spawned.
    try {
      await ctx.cluster.restartEtcdMember(member);
      ctx.log.end(r);
    } catch (err) {
      ctx.log.end(r, `restart failed: ${errorMessage(err)}`);
      throw err;
    }
  }
  return r;
}

/** Every member down; the fault ends when all of them are healthy again. */
async function outage(ctx: InjectContext, ms: number): Promise<FaultRecord> {
  const r = started(ctx, ctx.log.begin('etcd-outage', 'etcd (all members)', `SIGKILL all, restart after ${(ms / 1000).toFixed(1)}s`));
  try {
    await ctx.cluster.killEtcd();
    await sleep(ms, ctx.signal);
  } finally {
    try {
      await ctx.cluster.restartEtcd();
      ctx.log.end(r);
    } catch (err) {
      ctx.log.end(r, `restart failed: ${errorMessage(err)}`);
      throw err;
    }
  }
  return r;
}

async function partition(ctx: InjectContext, plan: FaultPlan): Promise<FaultRecord> {
  const host = plan.host ?? 0;
  const mode = plan.mode ?? 'blackhole';
  const r = started(ctx, ctx.log.begin('partition', hostName(ctx, host), `${mode} ${(plan.durationMs / 1000).toFixed(1)}s`));
  ctx.cluster.partition(host, mode);
  try {
    await sleep(plan.durationMs, ctx.signal);
  } finally {
    ctx.cluster.heal(host);
    ctx.log.end(r);
  }
  return r;
}
