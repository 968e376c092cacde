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
 *
 * This class only gathers a batch's inputs; batch-plan.ts decides the tasks
 * (pure) and batch-executor.ts carries them out.
 */
import type { AssignmentRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { timerDelay } from '../util/timers.js';
import { Coalescer } from '../util/coalesce.js';
import type { ContentCache } from './content-cache.js';
import type { Handovers, HandoverVerdict } from './handover.js';
import type { StateReporter } from './reporter.js';
import type { UnitFiles } from './unit-files.js';
import type { UnitManager } from './unit-manager.js';
import { UnitFailures } from './unit-failures.js';
import { unitTraits } from './unit-install.js';
import { handoverCandidates, planBatch, RUNNING_STATES, type BatchInputs } from './batch-plan.js';
import { BatchExecutor, emptyHostUnits, type HostUnits } from './batch-executor.js';

export class Reconciler {
  private readonly host: HostUnits = emptyHostUnits();
  private stopped = false;
  /** Lease lost: the assignments we hold may already be someone else's. Change nothing. */
  private held = false;
  private readonly failures: UnitFailures;
  private readonly executor: BatchExecutor;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  /** Told how long each batch took (gather, plan, apply), for the metrics. */
  batchObserver: ((seconds: number) => void) | undefined;
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
    contents: ContentCache,
    private readonly manager: UnitManager,
    private readonly reporter: StateReporter,
    private readonly handovers: Handovers,
    private readonly log: Logger,
    /** Units whose assignment here exists but does not decode: neither stopped nor started. */
    private readonly unreadable: () => ReadonlySet<string> = () => new Set(),
  ) {
    this.failures = new UnitFailures(log);
    this.executor = new BatchExecutor(this.host, {
      files,
      contents,
      manager,
      reporter,
      handovers,
      failures: this.failures,
      log,
      retryAt: (at) => this.armRetry(at),
    });
  }

  /** This host was away (lease lost, or flotillad restarted): units here then are handed over if re-placed meanwhile. */
  markReturning(): void {
    for (const unit of this.host.local.keys()) this.host.returning.add(unit);
  }

  /**
   * The lease dead man's switch fired and systemd stopped the bound units:
   * forget that we started them, so the next batch starts them again.
   */
  fenceFired(): void {
    for (const unit of this.host.bound) this.host.applied.delete(unit);
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /** Units whose files are on this host: running, stopped or still to be unloaded. */
  localUnits(): IterableIterator<string> {
    return this.host.local.keys();
  }

  has(unit: string): boolean {
    return this.host.local.has(unit);
  }

  /** Read what a previous run left on disk, so running units are adopted, not restarted. */
  async adopt(): Promise<void> {
    for (const [unit, { hash, content, bound }] of await this.files.scan()) {
      this.host.local.set(unit, hash);
      if (bound) this.host.bound.add(unit);
      if (unitTraits(unit, content).global) this.host.globals.add(unit);
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
    const inputs = await this.gather();
    const tasks = planBatch(inputs);
    const t1 = performance.now();
    const done = await this.executor.run(tasks);
    const ms = (n: number) => Math.round(n * 10) / 10;
    const t2 = performance.now();
    this.log.debug({ ...done, planMs: ms(t1 - t0), applyMs: ms(t2 - t1) }, 'reconcile batch done');
    this.batchObserver?.((t2 - t0) / 1000);
  }

  /** Everything the plan needs, read now: the only systemd reads are of returning units that may be handed over. */
  private async gather(): Promise<BatchInputs> {
    const reported = new Map<string, string>();
    for (const unit of this.host.local.keys()) {
      const hash = this.reporter.get(unit)?.hash;
      if (hash !== undefined) reported.set(unit, hash);
    }
    const handovers = new Map<string, HandoverVerdict>();
    for (const unit of this.handovers.units()) handovers.set(unit, this.handovers.verdict(unit));
    const inputs: Omit<BatchInputs, 'running'> = {
      held: this.held,
      desired: this.desired(),
      unreadable: this.unreadable(),
      local: this.host.local,
      applied: this.host.applied,
      reported,
      bound: this.host.bound,
      globals: this.host.globals,
      returning: new Set(this.host.returning),
      unready: this.host.unready,
      failures: this.failures.all(),
      now: Date.now(),
      handovers,
    };
    const running = new Set<string>();
    await Promise.all(
      handoverCandidates(inputs).map(async (unit) => {
        if (await this.runningForHandover(unit)) running.add(unit);
      }),
    );
    return { ...inputs, running };
  }

  /** Whether a returning unit runs; if systemd cannot say, it is handed over (kept running) rather than stopped. */
  private async runningForHandover(unit: string): Promise<boolean> {
    try {
      return RUNNING_STATES.has((await this.manager.unitStatus(unit)).active);
    } catch (err) {
      this.log.warn({ unit, err: errorMessage(err) }, 'cannot read the state of a unit no longer assigned here; handing it over');
      return true;
    }
  }

  /** One timer for the earliest retry of a failed unit. */
  private armRetry(at: number): void {
    if (this.retryTimer && this.retryAt <= at) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      void this.kick();
    }, timerDelay(at - Date.now() + 5));
    this.retryTimer.unref();
  }

  /** Stop everything (agent shutdown). Waits for a running batch first. */
  async unloadAll(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.batches.idle();
    this.handovers.closeAll();
    await Promise.all([...this.host.local.keys()].map((u) => this.executor.unload(u)));
    // Shutdown tidying only: systemd drops the stopped units whose file is gone on its next reload anyway.
    if (this.host.local.size === 0) await this.manager.reload().catch(() => undefined);
  }

  async halt(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.batches.idle();
    this.handovers.closeAll();
  }
}
