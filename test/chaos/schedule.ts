/**
 * The random fault schedule: bursts of one to three overlapping faults, each
 * followed by a quiet period in which the cluster must converge. Limits keep
 * every burst survivable by design, so what breaks is Flotilla, not quorum:
 * one etcd fault per burst (one member down, or the whole store, never a
 * member restart while the others are down), never every host faulted at once.
 */
import type { PartitionMode } from '../../src/dev/cluster.js';
import type { FaultKind } from './fault-log.js';
import type { Random } from './random.js';

export interface FaultPlan {
  kind: FaultKind;
  /** Host index for agent-kill, agent-stop and partition; engine-kill and engine-stop find their host when they strike. */
  host?: number;
  /** etcd member index for etcd-kill (etcd-outage takes every member). */
  member?: number;
  /** Delay from the start of the burst. */
  offsetMs: number;
  /** How long the fault lasts; 0 for kills (systemd restarts flotillad at once). */
  durationMs: number;
  mode?: PartitionMode;
}

export interface ScheduleOptions {
  hosts: number;
  etcdMembers: 1 | 3;
  ttlSeconds: number;
  /** Relative frequency of each kind; 0 disables it. */
  weights?: Partial<Record<FaultKind, number>>;
}

const DEFAULT_WEIGHTS: Record<FaultKind, number> = {
  'partition': 3,
  'agent-stop': 2,
  'agent-kill': 2,
  'engine-kill': 2,
  'engine-stop': 1,
  'etcd-kill': 2,
  'etcd-outage': 1,
};

/** Short partitions end before the lease can expire (keepalives go every TTL/3): they must change nothing. */
export function shortPartitionMaxMs(ttlSeconds: number): number {
  return Math.floor((ttlSeconds * 1000) / 2);
}

export function planBurst(rng: Random, opts: ScheduleOptions): FaultPlan[] {
  const ttlMs = opts.ttlSeconds * 1000;
  const weights = { ...DEFAULT_WEIGHTS, ...(opts.weights ?? {}) };
  if (opts.etcdMembers < 3) weights['etcd-kill'] = 0;
  const size = rng.weighted({ one: 55, two: 35, three: 10 });
  const wanted = size === 'one' ? 1 : size === 'two' ? 2 : 3;
  // Leave at least one host untouched, so there is always somewhere to run.
  const maxHostFaults = Math.max(1, opts.hosts - 1);
  const freeHosts = Array.from({ length: opts.hosts }, (_, i) => i);
  const plans: FaultPlan[] = [];
  let hostFaults = 0;
  for (let tries = 0; plans.length < wanted && tries < 20; tries++) {
    const kind = rng.weighted(weights);
    const offsetMs = plans.length === 0 ? 0 : rng.int(0, 1500);
    if (kind === 'etcd-kill' || kind === 'etcd-outage') {
      if (plans.some((p) => p.kind === 'etcd-kill' || p.kind === 'etcd-outage')) continue;
      if (kind === 'etcd-kill') plans.push({ kind, member: rng.int(0, opts.etcdMembers - 1), offsetMs, durationMs: rng.int(500, 4000) });
      // Past the TTL: every lease would have expired, had etcd been up to expire it.
      else plans.push({ kind, offsetMs, durationMs: rng.int(ttlMs + 500, 3 * ttlMs) });
      continue;
    }
    if (hostFaults >= maxHostFaults) continue;
    hostFaults++;
    if (kind === 'engine-kill') {
      plans.push({ kind, offsetMs, durationMs: 0 });
      continue;
    }
    if (kind === 'engine-stop') {
      plans.push({ kind, offsetMs, durationMs: rng.int(ttlMs + 500, 2 * ttlMs + 1000) });
      continue;
    }
    if (freeHosts.length === 0) continue;
    const host = freeHosts.splice(rng.int(0, freeHosts.length - 1), 1)[0] as number;
    if (kind === 'agent-kill') {
      plans.push({ kind, host, offsetMs, durationMs: 0 });
    } else if (kind === 'agent-stop') {
      // Past the TTL: the lease expires while the units keep running.
      plans.push({ kind, host, offsetMs, durationMs: rng.int(ttlMs + 500, 2 * ttlMs + 1000) });
    } else {
      const short = rng.chance(0.4);
      const durationMs = short ? rng.int(Math.floor(ttlMs / 5), shortPartitionMaxMs(opts.ttlSeconds)) : rng.int(ttlMs + 1000, 2 * ttlMs + 1000);
      plans.push({ kind, host, offsetMs, durationMs, mode: rng.chance(0.6) ? 'blackhole' : 'reset' });
    }
  }
  return plans;
}
