/**
 * Carries out the tasks of one batch (batch-plan.ts) through systemd, the
 * units directory, the content store and the state reporter, and keeps the
 * host's unit bookkeeping (`HostUnits`) in step with what it did.
 *
 * Consecutive tasks of one kind run concurrently (all unloads at once, all
 * starts at once); kinds run in the plan's order. One unit never holds back
 * another: a unit that cannot be fetched, written, linked, reloaded, started
 * or stopped fails alone (unit-failures.ts), is reported failed with its
 * reason and retried with backoff, while every other unit proceeds. Only a
 * store that cannot be read at all fails the whole batch (the caller retries).
 */
import type { AssignedState, AssignmentRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { ContentCache } from './content-cache.js';
import type { Handovers } from './handover.js';
import type { StateReporter } from './reporter.js';
import type { UnitFiles } from './unit-files.js';
import type { JobResult, UnitManager, UnitStatus } from './unit-manager.js';
import type { UnitFailures } from './unit-failures.js';
import { convergeAction, type BatchTask } from './batch-plan.js';
import { type InstallFailure, UnitInstaller } from './unit-install.js';

/** What systemd says of a name it has no file for: the state reported for a unit that never got that far. */
const NOT_INSTALLED = { load: 'not-found', active: 'inactive', sub: 'dead' };

/** The host's own record of its units, read by the plan and changed only here (and by the reconciler's adopt/markReturning). */
export interface HostUnits {
  /** unit -> hash of the file on disk */
  readonly local: Map<string, string>;
  /** unit -> what we last carried out for it (fleet's job-state cache) */
  readonly applied: Map<string, AssignedState>;
  /** OnDisconnect=stop units here: bound to the lease target (see fence.ts). */
  readonly bound: Set<string>;
  /** Global units here: a copy elsewhere does not replace ours (see handover.ts). */
  readonly globals: Set<string>;
  /** Units on this host when it came back (see handover.ts). */
  readonly returning: Set<string>;
  /** Units whose file is on disk but not (yet) linked and loaded by systemd: installed again before they run. */
  readonly unready: Set<string>;
}

export function emptyHostUnits(): HostUnits {
  return { local: new Map(), applied: new Map(), bound: new Set(), globals: new Set(), returning: new Set(), unready: new Set() };
}

function setMember(set: Set<string>, item: string, member: boolean): void {
  if (member) set.add(item);
  else set.delete(item);
}

/** What one batch's install step left for the steps after it. */
interface InstallState {
  /** Fresh statuses of units systemd saw without a reload (void after a reload). */
  known: Map<string, UnitStatus>;
  failed: InstallFailure[];
  stale: string[];
  /** The assignments installed, by unit. */
  byUnit: Map<string, AssignmentRecord>;
  reloaded: boolean;
}

export interface BatchSummary {
  unloaded: number;
  installed: number;
  reload: boolean;
}

export interface ExecutorParts {
  files: UnitFiles;
  contents: ContentCache;
  manager: UnitManager;
  reporter: StateReporter;
  handovers: Handovers;
  failures: UnitFailures;
  log: Logger;
  /** Called with the time the earliest failed unit is due again. */
  retryAt: (at: number) => void;
}

export class BatchExecutor {
  private readonly installer: UnitInstaller;

  constructor(
    private readonly host: HostUnits,
    private readonly p: ExecutorParts,
  ) {
    this.installer = new UnitInstaller(p.files, p.contents, p.manager);
  }

  /** Carry out `tasks` in order; throws only if the content store cannot be read (the rest is then left undone). */
  async run(tasks: readonly BatchTask[]): Promise<BatchSummary> {
    const install: InstallState = { known: new Map(), failed: [], stale: [], byUnit: new Map(), reloaded: false };
    const summary: BatchSummary = { unloaded: 0, installed: 0, reload: false };
    for (let i = 0; i < tasks.length; ) {
      let j = i + 1;
      while (j < tasks.length && tasks[j]?.kind === tasks[i]?.kind) j++;
      await Promise.all(tasks.slice(i, j).map((t) => this.runTask(t, install, summary)));
      i = j;
    }
    summary.reload = install.reloaded;
    return summary;
  }

  private async runTask(t: BatchTask, install: InstallState, summary: BatchSummary): Promise<void> {
    const { log, reporter, handovers, failures } = this.p;
    switch (t.kind) {
      case 'forget-failure':
        failures.forget(t.unit);
        if (t.removeReport) reporter.remove(t.unit);
        return;
      case 'end-handover':
        handovers.end(t.unit);
        log.info({ unit: t.unit }, 'unit assigned here again: its copy here carries on');
        return;
      case 'hand-over':
        handovers.begin(t.unit, { global: t.global });
        // Not ours to report: the replacement's host reports the unit.
        this.host.applied.delete(t.unit);
        reporter.remove(t.unit);
        return;
      case 'returning-decided':
        for (const unit of t.units) this.host.returning.delete(unit);
        return;
      case 'unload':
        if (t.handoverOver !== undefined) {
          log.info({ unit: t.unit, reason: t.handoverOver }, 'handover over: stopping this copy');
          handovers.end(t.unit);
        }
        summary.unloaded++;
        return this.unload(t.unit);
      case 'retire':
        return this.retire(t.unit);
      case 'install':
        summary.installed += t.assignments.length;
        return this.install(t.assignments, t.rewrite, install);
      case 'reload':
        return this.reloadStale(install);
      case 'report-install-failures':
        await Promise.all(install.failed.map((f) => this.fail(f.assignment, f.reason)));
        return;
      case 'converge': {
        const a = t.assignment;
        // Only units this batch's install left written, linked and loaded.
        if (t.afterInstall && (this.host.local.get(a.unit) !== a.hash || this.host.unready.has(a.unit) || !failures.due(a))) return;
        return this.converge(a, install.known.get(a.unit));
      }
      case 'retain-contents':
        this.p.contents.retainOnly(new Set(this.host.local.values()));
        return;
      case 'arm-retry': {
        const at = failures.nextRetryAt();
        if (at !== undefined) this.p.retryAt(at);
        return;
      }
    }
  }

  /** Stop the copy running old content before its file is replaced. */
  private async retire(unit: string): Promise<void> {
    // A stop that fails is not fatal: the install replaces the file, and converging reads the real state.
    await this.p.manager.stopUnit(unit).catch(() => undefined);
    this.host.applied.delete(unit);
  }

  private async install(assignments: readonly AssignmentRecord[], rewrite: ReadonlySet<string>, out: InstallState): Promise<void> {
    const r = await this.installer.install(assignments, (a) => rewrite.has(a.unit));
    for (const a of assignments) out.byUnit.set(a.unit, a);
    for (const [unit, traits] of r.written) {
      this.host.local.set(unit, out.byUnit.get(unit)?.hash as string);
      setMember(this.host.bound, unit, traits.stopOnDisconnect);
      setMember(this.host.globals, unit, traits.global);
      this.host.unready.add(unit);
    }
    for (const [unit, status] of r.ready) {
      this.host.unready.delete(unit);
      out.known.set(unit, status);
    }
    out.failed.push(...r.failed);
    out.stale = r.stale;
  }

  private async reloadStale(s: InstallState): Promise<void> {
    if (s.stale.length === 0) return;
    try {
      await this.p.manager.reload();
      s.reloaded = true;
      s.known.clear();
      for (const unit of s.stale) this.host.unready.delete(unit);
    } catch (err) {
      // Only the units that needed it wait for the next reload; the others run now.
      for (const unit of s.stale) s.failed.push({ assignment: s.byUnit.get(unit) as AssignmentRecord, reason: errorMessage(err) });
    }
  }

  /** `a` could not be carried out: report it failed (with what systemd says of it, if anything) and retry later. */
  private async fail(a: AssignmentRecord, reason: string, status?: UnitStatus): Promise<void> {
    this.p.failures.record(a, reason);
    // Already failing: if systemd cannot say either, the unit is reported as never installed (the failure carries the reason).
    const s = status ?? (await this.p.manager.unitStatus(a.unit).catch(() => undefined)) ?? NOT_INSTALLED;
    this.p.reporter.set(a.unit, a.hash, a.desired, { load: s.load, active: s.active, sub: s.sub });
    this.p.reporter.setFailure(a.unit, reason);
  }

  /**
   * Start or stop the unit as assigned (`known`: its status, if this batch
   * read it already). A call systemd refuses (or that cannot reach it) is a
   * failure of this unit only, retried with backoff. A start job that
   * systemd ran and that failed is reported with systemd's reasons but not
   * retried: like fleet, the agent leaves restarts to the unit's own Restart=.
   */
  private async converge(a: AssignmentRecord, known: UnitStatus | undefined): Promise<void> {
    const { manager, reporter, log, failures } = this.p;
    let before: UnitStatus;
    try {
      before = known ?? (await manager.unitStatus(a.unit));
    } catch (err) {
      return this.fail(a, errorMessage(err));
    }
    // Follow signals from here on: `active` is published the moment systemd says so.
    reporter.track(a.unit, a.hash, a.desired, before);
    let startFailure: string | undefined;
    try {
      const action = convergeAction(a.desired, before.active);
      if (action === 'start') {
        const result = await manager.startUnit(a.unit);
        log.info({ unit: a.unit, result }, 'started unit');
        if (result === 'failed' || result === 'timeout' || result === 'dependency') startFailure = await this.startFailure(a.unit, result);
      } else if (action === 'stop') {
        const result = await manager.stopUnit(a.unit);
        log.info({ unit: a.unit, result }, 'stopped unit');
      } else if (action === 'adopt') {
        log.info({ unit: a.unit, mainPid: before.mainPid }, 'adopted running unit');
      }
    } catch (err) {
      return this.fail(a, errorMessage(err), before);
    }
    this.host.applied.set(a.unit, a.desired);
    failures.succeeded(a.unit);
    reporter.setFailure(a.unit, startFailure, { startFailed: true });
    await this.settle(a).catch((err: unknown) => {
      // Signals keep the state right; publish what they said so far.
      log.debug({ unit: a.unit, err: errorMessage(err) }, 'reading the state after a start or stop failed');
      reporter.update(a.unit, {});
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
      this.p.manager.unitResult?.(unit).catch(() => undefined),
      this.p.manager.failedCommand?.(unit).catch(() => undefined),
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
    const { manager, reporter } = this.p;
    for (let attempt = 0; attempt < 3; attempt++) {
      const v = reporter.version(a.unit);
      const status = await manager.unitStatus(a.unit);
      if (reporter.version(a.unit) === v) {
        reporter.set(a.unit, a.hash, a.desired, { load: status.load, active: status.active, sub: status.sub });
        return;
      }
    }
    reporter.update(a.unit, {});
  }

  /** Stop the unit, unlink it and remove its file; a unit that cannot be stopped keeps its file for the next batch. */
  async unload(unit: string): Promise<void> {
    const { manager, log } = this.p;
    this.host.applied.delete(unit);
    try {
      await manager.stopUnit(unit);
    } catch (err) {
      // Keep the file: removing it would leave a running unit systemd can no longer stop (fleet #1216).
      log.warn({ unit, err: errorMessage(err) }, 'stopping unit failed; keeping it for the next batch');
      return;
    }
    // The unit is stopped: a link or a failed mark left behind goes with the file removed below.
    await manager.disableUnitFiles([unit]).catch(() => undefined);
    await manager.resetFailedUnit(unit).catch(() => undefined);
    try {
      await this.p.files.remove(unit);
    } catch (err) {
      log.warn({ unit, err: errorMessage(err) }, 'removing the unit file failed; retrying with the next batch');
      return;
    }
    this.host.local.delete(unit);
    this.host.unready.delete(unit);
    this.host.bound.delete(unit);
    this.host.globals.delete(unit);
    this.p.failures.forget(unit);
    this.p.reporter.remove(unit);
    log.info({ unit }, 'unloaded unit');
  }
}
