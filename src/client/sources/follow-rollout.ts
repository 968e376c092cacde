/**
 * Today's Rollout (src/rollout/rollout.ts): the sync has written every
 * change, the engine applies them at once, and this follows each unit from
 * the client until it is healthy (src/rollout/health.ts) on every host that
 * runs it, for --min-healthy-time if it was replaced, or until
 * --healthy-deadline passes. A unit systemd reports failed fails at once.
 * Units not to be launched are done when they reach their desired state.
 */
import { type Health, unitHealth } from '../../rollout/health.js';
import type { RolloutOptions } from '../../rollout/options.js';
import type { Rollout, RolloutEvent, RolloutReport, RolloutUnit } from '../../rollout/rollout.js';
import { formatDuration } from '../../util/duration.js';
import { FlotillaError } from '../../util/errors.js';
import { machineFullLegend } from '../legend.js';
import type { OperationContext } from '../operations/context.js';
import { WaitTimeoutError, withWaiter } from '../operations/waiter.js';
import { problemSummary } from '../operations/waits.js';
import type { UnitStateView } from '../types.js';

interface Verdict {
  health: Health;
  detail: string;
}

class UnitFailed extends FlotillaError {}

const RUNNING: ReadonlySet<string> = new Set(['active', 'activating', 'deactivating', 'reloading']);

export class FollowRollout implements Rollout {
  constructor(
    private readonly ctx: OperationContext,
    private readonly now: () => number = Date.now,
  ) {}

  async run(units: readonly RolloutUnit[], opts: RolloutOptions, progress: (e: RolloutEvent) => void): Promise<RolloutReport> {
    const report: RolloutReport = { healthy: [], failed: [], notStarted: [] };
    if (units.length === 0) return report;
    await withWaiter(this.ctx, units.map((u) => u.name), async (w) => {
      await Promise.all(
        units.map(async (u) => {
          let last: Verdict = { health: 'pending', detail: 'waiting for the cluster' };
          let healthySince: number | undefined;
          const say = (v: Verdict): void => {
            if (v.detail !== last.detail || v.health !== last.health) progress({ unit: u.name, phase: 'waiting', detail: v.detail });
            last = v;
          };
          const minMs = u.action === 'replace' && u.desired === 'launched' ? opts.minHealthyMs : 0;
          try {
            await w.until(
              u.name,
              async () => {
                const v = await this.verdict(u);
                if (v.health === 'failed') throw new UnitFailed(v.detail);
                if (v.health !== 'healthy') {
                  healthySince = undefined;
                  say(v);
                  return undefined;
                }
                healthySince ??= this.now();
                const held = this.now() - healthySince;
                if (held >= minMs) return v;
                say({ health: 'pending', detail: `${v.detail}, healthy for ${formatDuration(Math.floor(held / 1000) * 1000)} of ${formatDuration(minMs)}` });
                return undefined;
              },
              opts.healthyDeadlineMs,
              () => `not healthy within ${formatDuration(opts.healthyDeadlineMs)} (last: ${last.detail})`,
            );
            report.healthy.push(u.name);
            progress({ unit: u.name, phase: 'healthy', detail: last.health === 'healthy' ? last.detail : (await this.verdict(u)).detail });
          } catch (err) {
            if (!(err instanceof UnitFailed) && !(err instanceof WaitTimeoutError)) throw err;
            report.failed.push({ unit: u.name, reason: err.message });
            progress({ unit: u.name, phase: 'failed', detail: err.message });
          }
        }),
      );
    });
    report.healthy.sort();
    report.failed.sort((a, b) => (a.unit < b.unit ? -1 : 1));
    return report;
  }

  private async verdict(u: RolloutUnit): Promise<Verdict> {
    const summary = await this.ctx.client.getUnit(u.name);
    if (!summary) return { health: 'failed', detail: 'destroyed while rolling out' };
    if (summary.hash !== u.hash) return { health: 'failed', detail: `replaced by someone else while rolling out (now ${summary.hash.slice(0, 7)})` };
    const states = await this.ctx.client.listUnitStates(u.name);
    if (u.desired === 'inactive') {
      return states.length === 0 ? { health: 'healthy', detail: 'inactive' } : { health: 'pending', detail: `unloading from ${states.length} machine(s)` };
    }
    const current = states.filter((s) => s.hash === u.hash || s.hash === '');
    if (summary.global) {
      if (current.length === 0) return { health: 'pending', detail: states.length > 0 ? 'old content still running' : 'no machine runs it yet' };
      const judged = await Promise.all(current.map((s) => this.judge(u, s)));
      const failed = judged.find((j) => j.health === 'failed');
      if (failed) return failed;
      const pending = judged.filter((j) => j.health !== 'healthy');
      if (pending.length > 0 || current.length < states.length) return { health: 'pending', detail: `${judged.length - pending.length} of ${states.length} machines healthy` };
      return { health: 'healthy', detail: `healthy on ${judged.length} machine(s)` };
    }
    if (!summary.machineId) {
      const why = summary.unplaced ? `cannot be placed yet: ${await problemSummary(this.ctx, summary.unplaced)}` : 'waiting for a machine';
      return { health: 'pending', detail: why };
    }
    const s = current.find((x) => x.machineId === summary.machineId);
    if (!s) return { health: 'pending', detail: `assigned to ${await this.machine(summary.machineId)}, not yet reported` };
    return this.judge(u, s);
  }

  private async judge(u: RolloutUnit, s: UnitStateView): Promise<Verdict> {
    const on = `${s.load}/${s.active}/${s.sub} on ${await this.machine(s.machineId)}`;
    if (u.desired === 'loaded') {
      // Loaded means there and not running; a failed earlier run is neither.
      return { health: s.load === 'loaded' && !RUNNING.has(s.active) ? 'healthy' : 'pending', detail: on };
    }
    return { health: unitHealth(u.traits, s), detail: on };
  }

  private async machine(id: string): Promise<string> {
    return machineFullLegend((await this.ctx.machines.get(id)) ?? { id }, false);
  }
}
