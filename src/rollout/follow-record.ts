/**
 * Following a rollout from its record (P/rollouts/<source>), for `flotctl
 * sync` once the engine drives rollouts: the client starts the rollout by
 * writing the record with the sync (src/gitops/sync-writes.ts, `rolling`),
 * then reads the record until it ends, turning each unit's phase changes
 * into the same progress events the display already shows. The client only
 * reads: the engine's driver is the one writer.
 */
import type { RolloutRecord, RolloutUnitRecord } from '../registry/records.js';
import { formatDuration } from '../util/duration.js';
import { FlotillaError } from '../util/errors.js';
import type { RolloutEvent, RolloutReport } from './rollout.js';

/** The events between two readings of one record (prev undefined: the first reading). */
export function recordEvents(prev: RolloutRecord | undefined, next: RolloutRecord): RolloutEvent[] {
  const before = new Map((prev?.units ?? []).map((u) => [u.name, stage(u)]));
  const out: RolloutEvent[] = [];
  for (const u of next.units) {
    if (before.get(u.name) === stage(u)) continue;
    const e = unitEvent(u, next.opts.minHealthyMs);
    if (e) out.push(e);
  }
  return out;
}

/**
 * What a reader tells apart: the phase, and for a unit in flight whether it
 * is healthy yet, or (global, rolling host by host) where each host is.
 */
function stage(u: RolloutUnitRecord): string {
  if (u.phase === 'inflight' && u.hosts) return `inflight-hosts:${u.hosts.map((h) => h.phase).join(',')}`;
  return u.phase === 'inflight' && u.healthySince !== undefined ? 'inflight-healthy' : u.phase;
}

function hostProgress(u: RolloutUnitRecord & { hosts: NonNullable<RolloutUnitRecord['hosts']> }): string {
  const done = u.hosts.filter((h) => h.phase === 'done').length;
  const moving = u.hosts.filter((h) => h.phase === 'inflight').map((h) => h.machineId.slice(0, 12));
  return `host by host: ${done}/${u.hosts.length} hosts done${moving.length > 0 ? `, replacing on ${moving.join(', ')}` : ''}`;
}

function unitEvent(u: RolloutUnitRecord, minHealthyMs: number): RolloutEvent | undefined {
  switch (u.phase) {
    case 'pending':
      return undefined;
    case 'inflight':
      if (u.hosts) return { unit: u.name, phase: 'waiting', detail: hostProgress({ ...u, hosts: u.hosts }) };
      if (u.healthySince !== undefined) return { unit: u.name, phase: 'waiting', detail: `replaced; healthy, must stay so for ${formatDuration(minHealthyMs)}` };
      return { unit: u.name, phase: 'waiting', detail: 'replaced; waiting for it to be healthy on its hosts' };
    case 'done':
      return { unit: u.name, phase: 'healthy', detail: u.reason ?? `replaced; healthy for ${formatDuration(minHealthyMs)}` };
    case 'failed':
      return { unit: u.name, phase: 'failed', detail: u.reason ?? 'unhealthy' };
    case 'reverted':
      return { unit: u.name, phase: 'failed', detail: `${u.reason ?? 'unhealthy'}; previous content put back` };
  }
}

export function recordReport(r: RolloutRecord): RolloutReport {
  const stopped = r.state === 'failed' ? { stopped: r.error ?? 'the rollout stopped on an unhealthy unit' } : {};
  return {
    ...stopped,
    healthy: r.units.filter((u) => u.phase === 'done').map((u) => u.name),
    failed: r.units.filter((u) => u.phase === 'failed' || u.phase === 'reverted').map((u) => ({ unit: u.name, reason: u.phase === 'reverted' ? `${u.reason ?? 'unhealthy'}; previous content put back` : (u.reason ?? 'unhealthy') })),
    notStarted: r.units.filter((u) => u.phase === 'pending' || u.phase === 'inflight').map((u) => u.name),
  };
}

export interface FollowOptions {
  /** The commit whose rollout to follow: a record of another commit means this one was superseded. */
  commit: string;
  pollMs: number;
  /** Stop following (the rollout goes on in the engine) after this long. */
  timeoutMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The rollout record is gone or belongs to a newer sync: following stops, the engine carries on. */
export class RolloutLostError extends FlotillaError {}

/**
 * Reads the record until the rollout ends; resolves with its report. When
 * `timeoutMs` passes first, resolves with what is known (units not done are
 * `notStarted`): the rollout itself goes on in the engine.
 */
export async function followRecord(read: () => Promise<RolloutRecord | undefined>, progress: (e: RolloutEvent) => void, o: FollowOptions): Promise<RolloutReport> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const end = now() + o.timeoutMs;
  let prev: RolloutRecord | undefined;
  for (;;) {
    const r = await read();
    if (!r) throw new RolloutLostError('the rollout record is gone (the source was removed?): see flotctl sources');
    if (r.commit !== o.commit) throw new RolloutLostError(`a newer sync (commit ${r.commit.slice(0, 12) || 'none'}) replaced this rollout: see flotctl sources`);
    for (const e of recordEvents(prev, r)) progress(e);
    prev = r;
    if (r.state !== 'running' || now() >= end) return recordReport(r);
    await sleep(Math.min(o.pollMs, Math.max(0, end - now())));
  }
}
