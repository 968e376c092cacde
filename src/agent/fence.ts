/**
 * At-most-once for `OnDisconnect=stop` units: a dead man's switch kept inside
 * the host's own systemd, so it fires however the agent fails to renew its
 * lease: partitioned from etcd, frozen (SIGSTOP), or dead (SIGKILL).
 *
 *   flotilla-lease.target   active while the agent renews its lease
 *   flotilla-fence.timer    OnActiveSec=<deadline>; re-armed on every renewal
 *   flotilla-fence.target   what the timer starts; Conflicts= the lease target
 *
 * Every stop unit is written with `BindsTo=` + `After=flotilla-lease.target`,
 * so when the timer fires systemd stops the lease target and with it every
 * stop unit, with no help from the agent. The engine re-places such units
 * only after the lease expired plus a grace period; the deadline is shorter
 * than that, so the old copy is gone before a new one can start.
 *
 * This rests on one assumption: the host's and the engine's clocks run at
 * about the same rate (drift well under the margins, see README), not that
 * they agree on the time.
 */
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { UnitManager } from './unit-manager.js';
// Their names live with unit name validation, which refuses them for user units.
import { FENCE_TARGET, FENCE_TIMER, LEASE_TARGET } from '../unit/reserved-names.js';

export { LEASE_TARGET };

/** Appended to a stop unit's file on disk (systemd merges repeated [Unit] sections). */
export const BIND_TO_LEASE = `\n# Flotilla: OnDisconnect=stop, stopped by systemd if the agent loses its lease\n[Unit]\nBindsTo=${LEASE_TARGET}\nAfter=${LEASE_TARGET}\n`;

/** Fraction of the lease TTL after the last renewal at which the switch fires. */
export const FENCE_DEADLINE_FRACTION = 0.75;

export class HostFence {
  private arming: Promise<void> | undefined;
  private rearm = false;
  /** The first arm of a process brings the target up; only later ones can find it fired. */
  private armed = false;
  private armQueue: Promise<boolean> = Promise.resolve(false);

  constructor(
    private readonly manager: UnitManager,
    private readonly dir: string,
    private readonly deadlineMs: number,
    private readonly log: Logger,
  ) {}

  /** Write and link the three units (idempotent). */
  async install(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const files: Record<string, string> = {
      // StartLimitIntervalSec=0: the timer is restarted on every renewal (about
      // every TTL/3), far past systemd's default start rate limit, which would
      // leave it failed and the switch disarmed.
      [LEASE_TARGET]: `[Unit]\nDescription=Flotilla holds its cluster lease\nConflicts=${FENCE_TARGET}\nStartLimitIntervalSec=0\n`,
      [FENCE_TARGET]: `[Unit]\nDescription=Flotilla lost its cluster lease: OnDisconnect=stop units are stopped\nConflicts=${LEASE_TARGET}\nStartLimitIntervalSec=0\n`,
      [FENCE_TIMER]: `[Unit]\nDescription=Flotilla lease dead man's switch\nStartLimitIntervalSec=0\n\n[Timer]\nOnActiveSec=${Math.max(1, Math.round(this.deadlineMs))}ms\nAccuracySec=10ms\nUnit=${FENCE_TARGET}\nRemainAfterElapse=no\n`,
    };
    const paths: string[] = [];
    let changed = false;
    for (const [name, text] of Object.entries(files)) {
      const path = join(this.dir, name);
      paths.push(path);
      // Unreadable or absent counts as "not there yet": the file is (re)written either way.
      const old = await readFile(path, 'utf8').catch(() => undefined);
      if (old !== text) {
        await writeFile(path, text);
        if (old !== undefined) changed = true;
      }
    }
    await this.manager.linkUnitFiles(paths);
    const stale = await Promise.all(Object.keys(files).map((n) => this.manager.unitStatus(n)));
    if (changed || stale.some((s) => s.needDaemonReload || s.load !== 'loaded')) await this.manager.reload();
  }

  /**
   * Called on every lease renewal. Returns true if the switch had fired
   * (stop units were stopped and must be started again).
   */
  arm(): Promise<boolean> {
    // One at a time: two overlapping first arms (start-up and the first
    // renewal) would both find the target down, and the second would take
    // the first one's start for a switch that fired.
    const next = this.armQueue.then(() => this.armOnce());
    this.armQueue = next.catch(() => false);
    return next;
  }

  private async armOnce(): Promise<boolean> {
    const lease = await this.manager.unitStatus(LEASE_TARGET);
    const down = lease.active !== 'active';
    if (down) await this.manager.startUnit(LEASE_TARGET);
    this.kickTimer();
    const fired = down && this.armed;
    this.armed = true;
    return fired;
  }

  /** Restart the timer, never more than one call in flight (renewals can bunch up). */
  private kickTimer(): void {
    if (this.arming) {
      this.rearm = true;
      return;
    }
    this.arming = this.restartTimer()
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'cannot re-arm the lease dead man\'s switch'))
      .finally(() => {
        this.arming = undefined;
        if (this.rearm) {
          this.rearm = false;
          this.kickTimer();
        }
      });
  }

  /** A restart job can end without error yet not 'done' (e.g. a failed unit): clear and try once more. */
  private async restartTimer(): Promise<void> {
    const result = await this.manager.restartUnit(FENCE_TIMER);
    if (result === 'done') return;
    this.log.warn({ result }, 're-arming the lease dead man\'s switch did not complete; resetting it');
    await this.manager.resetFailedUnit(FENCE_TIMER);
    const again = await this.manager.restartUnit(FENCE_TIMER);
    if (again !== 'done') throw new Error(`restart of ${FENCE_TIMER} ended ${again}`);
  }

  /** Leaving the cluster on purpose: nothing must fire after we are gone. */
  async disarm(): Promise<void> {
    await this.arming;
    // The agent is leaving and its units are already unloaded: a timer that still fires has nothing bound to stop.
    await this.manager.stopUnit(FENCE_TIMER).catch(() => undefined);
  }

  async fired(): Promise<boolean> {
    return (await this.manager.unitStatus(LEASE_TARGET)).active !== 'active';
  }
}
