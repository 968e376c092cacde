/**
 * Publishes the systemd state of the units this agent runs. Driven by
 * PropertiesChanged signals, de-duplicated against what was last written, and
 * coalesced: whatever changed until the next tick (a burst of signals, a
 * whole batch of starts) is written in one transaction. Everything is written
 * on the presence lease, so a dead host's states vanish with it.
 *
 * A unit's record also carries why the agent could not carry out its
 * assignment, or why systemd's start job failed (`failure`), until the
 * reconciler clears it, or, for a failed start, until systemd reports the
 * unit active after all (a Restart= unit that came up on a later try).
 */
import type { AgentStore } from '../registry/agent-store.js';
import { boundedReason, encode, type AssignedState, type UnitStateRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';

export interface ReportedStatus {
  load: string;
  active: string;
  sub: string;
}

export class StateReporter {
  private readonly current = new Map<string, UnitStateRecord>();
  /** Units whose failure is a failed start: over once systemd reports them active. */
  private readonly failedStarts = new Set<string>();
  private readonly published = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly deleted = new Set<string>();
  /** Bumped by every signal: tells a status read whether a signal overtook it. */
  private readonly signalVersion = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  /** A failed write waits this out before the next one (etcd down must not spin). */
  private retryTimer: NodeJS.Timeout | undefined;
  private failing = false;
  private leaseId: string | undefined;

  private readonly machineId: string;

  constructor(
    private readonly store: AgentStore,
    private readonly log: Logger,
  ) {
    this.machineId = store.machineId;
  }

  /** A new lease: everything must be written again on it. */
  useLease(leaseId: string): void {
    this.leaseId = leaseId;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.published.clear();
    for (const unit of this.current.keys()) this.dirty.add(unit);
    this.schedule();
  }

  /** Publish a unit's state; a failure set for it stays until setFailure clears it. */
  set(unit: string, hash: string, applied: AssignedState, status: ReportedStatus): void {
    this.deleted.delete(unit);
    this.current.set(unit, this.record(unit, hash, applied, status));
    this.dirty.add(unit);
    this.schedule();
  }

  /**
   * Why the unit's assignment could not be carried out (undefined: it was).
   * `startFailed`: systemd's start job failed; the failure then also ends
   * when systemd reports the unit active. Only for units set or tracked.
   */
  setFailure(unit: string, reason: string | undefined, opts: { startFailed?: boolean } = {}): void {
    const cur = this.current.get(unit);
    if (!cur) return;
    if (reason !== undefined && opts.startFailed) this.failedStarts.add(unit);
    else this.failedStarts.delete(unit);
    const failure = reason === undefined ? undefined : boundedReason(reason);
    if (cur.failure === failure) return;
    const next: UnitStateRecord = { ...cur };
    if (failure === undefined) delete next.failure;
    else next.failure = failure;
    this.current.set(unit, next);
    this.dirty.add(unit);
    this.schedule();
  }

  private record(unit: string, hash: string, applied: AssignedState, status: ReportedStatus): UnitStateRecord {
    const rec: UnitStateRecord = { unit, machineId: this.machineId, hash, load: status.load, active: status.active, sub: status.sub, applied };
    // A failure is about the content it was reported for: new content starts without one
    // (a rollout must not take the old content's failed start for the new one's).
    const prev = this.current.get(unit);
    const failure = prev !== undefined && prev.hash === hash ? prev.failure : undefined;
    if (failure !== undefined && !(this.failedStarts.has(unit) && status.active === 'active')) rec.failure = failure;
    else this.failedStarts.delete(unit);
    return rec;
  }

  /**
   * Follow a unit's signals from now on without publishing yet: a start then
   * publishes `active` the moment systemd signals it, not after our own
   * status read.
   */
  track(unit: string, hash: string, applied: AssignedState, status: ReportedStatus): void {
    this.deleted.delete(unit);
    this.current.set(unit, this.record(unit, hash, applied, status));
  }

  version(unit: string): number {
    return this.signalVersion.get(unit) ?? 0;
  }

  /** Merge a partial systemd status (from a signal) into a unit we report. */
  update(unit: string, partial: Partial<ReportedStatus>): void {
    const cur = this.current.get(unit);
    if (!cur) return;
    this.signalVersion.set(unit, this.version(unit) + 1);
    this.set(unit, cur.hash, cur.applied, { load: partial.load ?? cur.load, active: partial.active ?? cur.active, sub: partial.sub ?? cur.sub });
  }

  get(unit: string): UnitStateRecord | undefined {
    return this.current.get(unit);
  }

  remove(unit: string): void {
    this.current.delete(unit);
    this.failedStarts.delete(unit);
    this.signalVersion.delete(unit);
    this.dirty.delete(unit);
    this.deleted.add(unit);
    this.schedule();
  }

  /** Resolves when everything set so far has been written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.size > 0 || this.deleted.size > 0) {
      this.schedule();
      await this.flushing;
    }
  }

  private schedule(): void {
    if (this.flushing || this.retryTimer || !this.leaseId) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeOut());
  }

  private async writeOut(): Promise<void> {
    const leaseId = this.leaseId;
    let failed = false;
    const deletes = [...this.deleted];
    try {
      for (const unit of deletes) this.published.delete(unit);
      this.deleted.clear();
      const puts: UnitStateRecord[] = [];
      for (const unit of this.dirty) {
        const rec = this.current.get(unit);
        if (!rec || !leaseId) continue;
        const value = encode(rec);
        if (this.published.get(unit) === value) continue;
        this.published.set(unit, value);
        puts.push(rec);
      }
      this.dirty.clear();
      if (deletes.length + puts.length > 0) await this.store.writeStates(leaseId, puts, deletes);
      if (this.failing) this.log.info('publishing unit states works again');
      this.failing = false;
    } catch (err) {
      failed = true;
      // One warning per outage, not one per write.
      if (!this.failing) this.log.warn({ err: errorMessage(err) }, 'publishing unit states failed; retrying every 500 ms');
      this.failing = true;
      this.published.clear();
      for (const unit of this.current.keys()) this.dirty.add(unit);
      for (const unit of deletes) if (!this.current.has(unit)) this.deleted.add(unit);
    } finally {
      this.flushing = undefined;
      if (failed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.schedule();
        }, 500);
        this.retryTimer.unref();
      } else if (this.dirty.size > 0 || this.deleted.size > 0) {
        this.schedule();
      }
    }
  }
}
