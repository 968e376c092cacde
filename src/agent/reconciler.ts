/**
 * Makes this host run exactly what the engine assigned to it, and nothing
 * else. One batch at a time: unload what is no longer ours, write and link
 * what is new or changed, one daemon-reload for the batch, then start and
 * stop. Changes arriving during a batch fold into one more batch.
 *
 * It acts only on assignments read from etcd for this machine (the caller's
 * cache of its own assignment prefix), never on anything else.
 */
import type { AssignmentRecord, AssignedState } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { ContentCache } from './content-cache.js';
import type { Handovers } from './handover.js';
import type { StateReporter } from './reporter.js';
import type { UnitFiles } from './unit-files.js';
import type { UnitManager, UnitStatus } from './unit-manager.js';
import { Coalescer } from '../util/coalesce.js';
import { UnitFile, parseRequirements } from '../unit/index.js';

const RUNNING = new Set(['active', 'activating', 'reloading']);

/** What the agent must know of a unit's [X-Fleet]; unparseable content counts as a plain keep unit (it cannot run anyway). */
function unitTraits(unit: string, text: string): { stopOnDisconnect: boolean; global: boolean } {
  try {
    const r = parseRequirements(UnitFile.parse(text), unit).requirements;
    return { stopOnDisconnect: r.onDisconnect === 'stop', global: r.global };
  } catch {
    return { stopOnDisconnect: false, global: false };
  }
}

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
  ) {}

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
    let reloadNeeded = false;

    // 1. Unload units no longer assigned here, except copies still being handed
    //    over. No reload needed: systemd drops stopped units whose file is gone,
    //    and a later file under the same name shows up as NeedDaemonReload below.
    for (const unit of desired.keys()) {
      if (!this.handovers.has(unit)) continue;
      this.handovers.end(unit);
      this.log.info({ unit }, 'unit assigned here again: its copy here carries on');
    }
    const gone = await this.stoppable([...this.local.keys()].filter((u) => !desired.has(u)));
    await Promise.all(gone.map((u) => this.unload(u)));

    // 2. Write and link new or changed files.
    const toWrite = [...desired.values()].filter((a) => this.local.get(a.unit) !== a.hash);
    const known = new Map<string, UnitStatus>();
    if (toWrite.length > 0) {
      const texts = await this.contents.fetch(toWrite.map((a) => a.hash));
      const paths: string[] = [];
      const written: string[] = [];
      await Promise.all(
        toWrite.map(async (a) => {
          const text = texts.get(a.hash);
          if (text === undefined) {
            this.log.warn({ unit: a.unit, hash: a.hash }, 'assigned unit content missing from the store');
            return;
          }
          if (this.local.has(a.unit)) {
            // New content for a unit we run: stop the old one first, as fleet's unload+load did.
            await this.manager.stopUnit(a.unit).catch(() => undefined);
            this.applied.delete(a.unit);
          }
          const traits = unitTraits(a.unit, text);
          paths.push(await this.files.write(a.unit, text, traits.stopOnDisconnect));
          setMember(this.bound, a.unit, traits.stopOnDisconnect);
          setMember(this.globals, a.unit, traits.global);
          written.push(a.unit);
          this.local.set(a.unit, a.hash);
        }),
      );
      if (paths.length > 0) {
        await this.manager.linkUnitFiles(paths);
        reloadNeeded = await this.needsReload(written, known);
      }
    }
    const t1 = performance.now();
    if (reloadNeeded) await this.manager.reload();
    const t2 = performance.now();

    // 3. Start and stop.
    await Promise.all(
      [...desired.values()].filter((a) => this.local.get(a.unit) === a.hash).map((a) => this.apply(a, known.get(a.unit))),
    );
    this.contents.retainOnly(new Set(this.local.values()));
    const ms = (n: number) => Math.round(n * 10) / 10;
    this.log.debug({ unloaded: gone.length, written: toWrite.length, reload: reloadNeeded, prepareMs: ms(t1 - t0), reloadMs: ms(t2 - t1), applyMs: ms(performance.now() - t2) }, 'reconcile batch done');
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
        } else if (returning.has(unit) && !this.bound.has(unit) && RUNNING.has((await this.manager.unitStatus(unit)).active)) {
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

  /**
   * A daemon-reload costs 50-100 ms and stalls the whole manager, so do one
   * only when systemd would otherwise run stale content: a unit it already had
   * in memory (NeedDaemonReload) or one it cannot load yet. Reading the status
   * of a brand-new unit makes systemd load it from the fresh file.
   */
  private async needsReload(units: string[], known: Map<string, UnitStatus>): Promise<boolean> {
    const statuses = await this.manager.freshUnitStatuses(units);
    for (const s of statuses) known.set(s.name, s);
    const stale = statuses.some((s) => s.needDaemonReload || s.load !== 'loaded');
    if (stale) known.clear();
    return stale;
  }

  private async apply(a: AssignmentRecord, known: UnitStatus | undefined): Promise<void> {
    if (this.applied.get(a.unit) === a.desired && this.reporter.get(a.unit)?.hash === a.hash) return;
    const before = known ?? (await this.manager.unitStatus(a.unit));
    // Follow signals from here on: `active` is published the moment systemd says so.
    this.reporter.track(a.unit, a.hash, a.desired, before);
    if (a.desired === 'launched' && !RUNNING.has(before.active)) {
      const result = await this.manager.startUnit(a.unit);
      this.log.info({ unit: a.unit, result }, 'started unit');
    } else if (a.desired === 'loaded' && RUNNING.has(before.active)) {
      const result = await this.manager.stopUnit(a.unit);
      this.log.info({ unit: a.unit, result }, 'stopped unit');
    } else if (a.desired === 'launched') {
      this.log.info({ unit: a.unit, mainPid: before.mainPid }, 'adopted running unit');
    }
    this.applied.set(a.unit, a.desired);
    await this.settle(a);
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
    await this.manager.disableUnitFiles([unit]).catch(() => undefined);
    await this.manager.resetFailedUnit(unit).catch(() => undefined);
    await this.files.remove(unit);
    this.local.delete(unit);
    this.bound.delete(unit);
    this.globals.delete(unit);
    this.reporter.remove(unit);
    this.log.info({ unit }, 'unloaded unit');
  }

  /** Stop everything (agent shutdown). Waits for a running batch first. */
  async unloadAll(): Promise<void> {
    this.stopped = true;
    await this.batches.idle();
    this.handovers.closeAll();
    await Promise.all([...this.local.keys()].map((u) => this.unload(u)));
    if (this.local.size === 0) await this.manager.reload().catch(() => undefined);
  }

  async halt(): Promise<void> {
    this.stopped = true;
    await this.batches.idle();
    this.handovers.closeAll();
  }
}
