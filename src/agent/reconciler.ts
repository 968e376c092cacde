/**
 * Makes this host run exactly what the engine assigned to it, and nothing
 * else. One batch at a time: unload what is no longer ours, write and link
 * what is new or changed, one daemon-reload for the batch, then start and
 * stop. Changes arriving during a batch fold into one more batch.
 *
 * One unit never holds back another: a unit that cannot be fetched, written,
 * linked, reloaded, started or stopped fails alone (unit-failures.ts), is
 * reported failed with its reason, and is retried with backoff, while every
 * other unit of the batch proceeds.
 *
 * It acts only on assignments read from etcd for this machine (the caller's
 * cache of its own assignment prefix), never on anything else. A unit whose
 * assignment is there but unreadable is left exactly as it is.
 */
import type { AssignmentRecord, AssignedState } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { timerDelay } from '../util/timers.js';
import type { ContentCache } from './content-cache.js';
import type { Handovers } from './handover.js';
import type { StateReporter } from './reporter.js';
import type { UnitFiles } from './unit-files.js';
import type { JobResult, UnitManager, UnitStatus } from './unit-manager.js';
import { Coalescer } from '../util/coalesce.js';
import { UnitFailures } from './unit-failures.js';
import { type InstallFailure, UnitInstaller, unitTraits } from './unit-install.js';

const RUNNING = new Set(['active', 'activating', 'reloading']);

/** What systemd says of a name it has no file for: the state reported for a unit that never got that far. */
const NOT_INSTALLED = { load: 'not-found', active: 'inactive', sub: 'dead' };

function setMember(set: Set<string>, item: string, member: boolean): void {
  if (member) set.add(item);
  else set.delete(item);
}

export class Reconciler {
  /** unit -> hash of the file on disk */
  private readonly local = new Map<string, string>();
  /** unit -> what we last carried out for it (fleet's job-state cache) */
  private readonly applied = new Map<string, AssignedState>();
  /** OnDisconnect=stop units here: bound to the lease target (see fence.ts). */
  private readonly bound = new Set<string>();
  /** Global units here: a copy elsewhere does not replace ours (see handover.ts). */
  private readonly globals = new Set<string>();
  private stopped = false;
  /** Lease lost: the assignments we hold may already be someone else's. Change nothing. */
  private held = false;
  /**
   * Units on this host when it came back (a new lease, or a restart): any of
   * them not assigned here on the next batch was re-placed while we were
   * away, and is handed over rather than stopped at once (handover.ts).
   */
  private readonly returning = new Set<string>();
  /** Units whose file is on disk but not (yet) linked and loaded by systemd: installed again before they run. */
  private readonly unready = new Set<string>();
  private readonly failures: UnitFailures;
  private readonly installer: UnitInstaller;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  private readonly batches = new Coalescer(async () => {
    if (this.stopped) return;
    try {
      await this.batch();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'reconcile batch failed; retrying');
      setTimeout(() => void this.kick(), 1000).unref();
    }
  });

  constructor(
    private readonly desired: () => ReadonlyMap<string, AssignmentRecord>,
    private readonly files: UnitFiles,
    private readonly contents: ContentCache,
    private readonly manager: UnitManager,
    private readonly reporter: StateReporter,
    private readonly handovers: Handovers,
    private readonly log: Logger,
    /** Units whose assignment here exists but does not decode: neither stopped nor started. */
    private readonly unreadable: () => ReadonlySet<string> = () => new Set(),
  ) {
    this.failures = new UnitFailures(log);
    this.installer = new UnitInstaller(files, contents, manager);
  }

  /** This host was away (lease lost, or flotillad restarted): see `returning`. */
  markReturning(): void {
    for (const unit of this.local.keys()) this.returning.add(unit);
  }

  /**
   * The lease dead man's switch fired and systemd stopped the bound units:
   * forget that we started them, so the next batch starts them again.
   */
  fenceFired(): void {
    for (const unit of this.bound) this.applied.delete(unit);
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /** Units whose files are on this host: running, stopped or still to be unloaded. */
  localUnits(): IterableIterator<string> {
    return this.local.keys();
  }

  has(unit: string): boolean {
    return this.local.has(unit);
  }

  /** Read what a previous run left on disk, so running units are adopted, not restarted. */
  async adopt(): Promise<void> {
    for (const [unit, { hash, content, bound }] of await this.files.scan()) {
      this.local.set(unit, hash);
      if (bound) this.bound.add(unit);
      if (unitTraits(unit, content).global) this.globals.add(unit);
    }
  }

  /** Run a batch; calls while one runs fold into one more batch. */
  kick(): Promise<void> {
    return this.batches.run();
  }

  /** Asked before every batch, so a hold that is due takes effect even if its timer has not fired. */
  beforeBatch: (() => void) | undefined;

  private async batch(): Promise<void> {
    this.beforeBatch?.();
    if (this.held) return;
    const t0 = performance.now();
    const desired = this.desired();
    const unreadable = this.unreadable();
    this.forgetFailuresOf(desired, unreadable);

    // 1. Unload units no longer assigned here, except copies still being handed
    //    over. No reload needed: systemd drops stopped units whose file is gone,
    //    and a later file under the same name shows up as NeedDaemonReload below.
    for (const unit of desired.keys()) {
      if (!this.handovers.has(unit)) continue;
      this.handovers.end(unit);
      this.log.info({ unit }, 'unit assigned here again: its copy here carries on');
    }
    const gone = await this.stoppable([...this.local.keys()].filter((u) => !desired.has(u) && !unreadable.has(u)));
    await Promise.all(gone.map((u) => this.unload(u)));

    // 2. Write and link new or changed files (and files a failed link left unlinked).
    const rewrite = (a: AssignmentRecord): boolean => this.local.get(a.unit) !== a.hash;
    const toInstall = [...desired.values()].filter((a) => (rewrite(a) || this.unready.has(a.unit)) && this.failures.due(a));
    const known = new Map<string, UnitStatus>();
    let reloaded = false;
    if (toInstall.length > 0) {
      // New content for a unit we run: stop the old one first, as fleet's unload+load did.
      await Promise.all(toInstall.filter((a) => rewrite(a) && this.local.has(a.unit)).map((a) => this.retire(a.unit)));
      const r = await this.installer.install(toInstall, rewrite);
      for (const [unit, traits] of r.written) {
        this.local.set(unit, desired.get(unit)?.hash as string);
        setMember(this.bound, unit, traits.stopOnDisconnect);
        setMember(this.globals, unit, traits.global);
        this.unready.add(unit);
      }
      for (const [unit, status] of r.ready) {
        this.unready.delete(unit);
        known.set(unit, status);
      }
      const failed: InstallFailure[] = [...r.failed];
      if (r.stale.length > 0) {
        try {
          await this.manager.reload();
          reloaded = true;
          known.clear();
          for (const unit of r.stale) this.unready.delete(unit);
        } catch (err) {
          // Only the units that needed it wait for the next reload; the others run now.
          for (const unit of r.stale) failed.push({ assignment: desired.get(unit) as AssignmentRecord, reason: errorMessage(err) });
        }
      }
      await Promise.all(failed.map((f) => this.fail(f.assignment, f.reason)));
    }
    const t1 = performance.now();

    // 3. Start and stop.
    await Promise.all(
      [...desired.values()]
        .filter((a) => this.local.get(a.unit) === a.hash && !this.unready.has(a.unit) && this.failures.due(a))
        .map((a) => this.apply(a, known.get(a.unit))),
    );
    this.contents.retainOnly(new Set(this.local.values()));
    this.armRetry();
    const ms = (n: number) => Math.round(n * 10) / 10;
    this.log.debug({ unloaded: gone.length, installed: toInstall.length, reload: reloaded, prepareMs: ms(t1 - t0), applyMs: ms(performance.now() - t1) }, 'reconcile batch done');
  }

  /** Failures of units no longer assigned here are over; a unit never installed has no one else to remove its state. */
  private forgetFailuresOf(desired: ReadonlyMap<string, AssignmentRecord>, unreadable: ReadonlySet<string>): void {
    for (const unit of [...this.failures.units()]) {
      if (desired.has(unit) || unreadable.has(unit)) continue;
      this.failures.forget(unit);
      if (!this.local.has(unit)) this.reporter.remove(unit);
    }
  }

  /** Stop the copy running old content before its file is replaced. */
  private async retire(unit: string): Promise<void> {
    // A stop that fails is not fatal: the install below replaces the file, and the start step reads the real state.
    await this.manager.stopUnit(unit).catch(() => undefined);
    this.applied.delete(unit);
  }

  /** `a` could not be carried out: report it failed (with what systemd says of it, if anything) and retry later. */
  private async fail(a: AssignmentRecord, reason: string, status?: UnitStatus): Promise<void> {
    this.failures.record(a, reason);
    // Already failing: if systemd cannot say either, the unit is reported as never installed (the failure carries the reason).
    const s = status ?? (await this.manager.unitStatus(a.unit).catch(() => undefined)) ?? NOT_INSTALLED;
    this.reporter.set(a.unit, a.hash, a.desired, { load: s.load, active: s.active, sub: s.sub });
    this.reporter.setFailure(a.unit, reason);
  }

  /** One timer for the earliest retry of a failed unit. */
  private armRetry(): void {
    const at = this.failures.nextRetryAt();
    if (at === undefined || (this.retryTimer && this.retryAt <= at)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      void this.kick();
    }, timerDelay(at - Date.now() + 5));
    this.retryTimer.unref();
  }

  /**
   * Of the units no longer assigned here, those to stop now. A running keep
   * unit this host had when it came back is handed over instead: it runs on
   * until its replacement is active (handover.ts). Everything else stops:
   * OnDisconnect=stop units (their switch stopped them; at most once comes
   * first) and units the engine moved while this host was in the cluster.
   */
  private async stoppable(gone: string[]): Promise<string[]> {
    const returning = new Set(this.returning);
    const out: string[] = [];
    await Promise.all(
      gone.map(async (unit) => {
        if (this.handovers.has(unit)) {
          const v = this.handovers.verdict(unit);
          if (!v.stop) return;
          this.log.info({ unit, reason: v.reason }, 'handover over: stopping this copy');
          this.handovers.end(unit);
        } else if (returning.has(unit) && !this.bound.has(unit) && (await this.runningForHandover(unit))) {
          this.handovers.begin(unit, { global: this.globals.has(unit) });
          // Not ours to report: the replacement's host reports the unit.
          this.applied.delete(unit);
          this.reporter.remove(unit);
          return;
        }
        out.push(unit);
      }),
    );
    // Only the first batch after a return decides; a failed one leaves the marks for its retry.
    for (const unit of returning) this.returning.delete(unit);
    return out;
  }

  /** Whether a returning unit runs; if systemd cannot say, it is handed over (kept running) rather than stopped. */
  private async runningForHandover(unit: string): Promise<boolean> {
    try {
      return RUNNING.has((await this.manager.unitStatus(unit)).active);
    } catch (err) {
      this.log.warn({ unit, err: errorMessage(err) }, 'cannot read the state of a unit no longer assigned here; handing it over');
      return true;
    }
  }

  /**
   * Start or stop the unit as assigned. A call systemd refuses (or that
   * cannot reach it) is a failure of this unit only, retried with backoff. A
   * start job that systemd ran and that failed is reported with systemd's
   * reasons but not retried: like fleet, the agent leaves restarts to the
   * unit's own Restart=.
   */
  private async apply(a: AssignmentRecord, known: UnitStatus | undefined): Promise<void> {
    if (this.applied.get(a.unit) === a.desired && this.reporter.get(a.unit)?.hash === a.hash) return;
    let before: UnitStatus;
    try {
      before = known ?? (await this.manager.unitStatus(a.unit));
    } catch (err) {
      return this.fail(a, errorMessage(err));
    }
    // Follow signals from here on: `active` is published the moment systemd says so.
    this.reporter.track(a.unit, a.hash, a.desired, before);
    let startFailure: string | undefined;
    try {
      if (a.desired === 'launched' && !RUNNING.has(before.active)) {
        const result = await this.manager.startUnit(a.unit);
        this.log.info({ unit: a.unit, result }, 'started unit');
        if (result === 'failed' || result === 'timeout' || result === 'dependency') startFailure = await this.startFailure(a.unit, result);
      } else if (a.desired === 'loaded' && RUNNING.has(before.active)) {
        const result = await this.manager.stopUnit(a.unit);
        this.log.info({ unit: a.unit, result }, 'stopped unit');
      } else if (a.desired === 'launched') {
        this.log.info({ unit: a.unit, mainPid: before.mainPid }, 'adopted running unit');
      }
    } catch (err) {
      return this.fail(a, errorMessage(err), before);
    }
    this.applied.set(a.unit, a.desired);
    this.failures.succeeded(a.unit);
    this.reporter.setFailure(a.unit, startFailure, { startFailed: true });
    await this.settle(a).catch((err: unknown) => {
      // Signals keep the state right; publish what they said so far.
      this.log.debug({ unit: a.unit, err: errorMessage(err) }, 'reading the state after a start or stop failed');
      this.reporter.update(a.unit, {});
    });
  }

  /**
   * Why systemd's start job failed, in its own words: the job's result, the
   * unit's Result (e.g. exit-code) and the command that failed. Each read is
   * best effort: without it the reason is shorter, never missing.
   */
  private async startFailure(unit: string, result: JobResult): Promise<string> {
    // Both reads only add detail to a reason that stands on its own.
    const [why, command] = await Promise.all([
      this.manager.unitResult?.(unit).catch(() => undefined),
      this.manager.failedCommand?.(unit).catch(() => undefined),
    ]);
    const base = `systemd's start job ended "${result}"${why !== undefined && why !== 'success' ? ` (unit result "${why}")` : ''}`;
    return command === undefined ? base : `${base}: ${command}`;
  }

  /**
   * Publish a fresh status read, unless a signal arrived while it was in
   * flight: the signal handler can run before the read's continuation even
   * when systemd sent the signal after the reply, so the read may be stale.
   * Read again until no signal overtakes it (signals keep the state right).
   */
  private async settle(a: AssignmentRecord): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const v = this.reporter.version(a.unit);
      const status = await this.manager.unitStatus(a.unit);
      if (this.reporter.version(a.unit) === v) {
        this.report(a.unit, a.hash, a.desired, status);
        return;
      }
    }
    this.reporter.update(a.unit, {});
  }

  private report(unit: string, hash: string, applied: AssignedState, status: UnitStatus): void {
    this.reporter.set(unit, hash, applied, { load: status.load, active: status.active, sub: status.sub });
  }

  private async unload(unit: string): Promise<void> {
    this.applied.delete(unit);
    try {
      await this.manager.stopUnit(unit);
    } catch (err) {
      // Keep the file: removing it would leave a running unit systemd can no longer stop (fleet #1216).
      this.log.warn({ unit, err: errorMessage(err) }, 'stopping unit failed; keeping it for the next batch');
      return;
    }
    // The unit is stopped: a link or a failed mark left behind goes with the file removed below.
    await this.manager.disableUnitFiles([unit]).catch(() => undefined);
    await this.manager.resetFailedUnit(unit).catch(() => undefined);
    try {
      await this.files.remove(unit);
    } catch (err) {
      this.log.warn({ unit, err: errorMessage(err) }, 'removing the unit file failed; retrying with the next batch');
      return;
    }
    this.local.delete(unit);
    this.unready.delete(unit);
    this.bound.delete(unit);
    this.globals.delete(unit);
    this.failures.forget(unit);
    this.reporter.remove(unit);
    this.log.info({ unit }, 'unloaded unit');
  }

  /** Stop everything (agent shutdown). Waits for a running batch first. */
  async unloadAll(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.batches.idle();
    this.handovers.closeAll();
    await Promise.all([...this.local.keys()].map((u) => this.unload(u)));
    // Shutdown tidying only: systemd drops the stopped units whose files are gone on its next reload anyway.
    if (this.local.size === 0) await this.manager.reload().catch(() => undefined);
  }

  async halt(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.batches.idle();
    this.handovers.closeAll();
  }
}
