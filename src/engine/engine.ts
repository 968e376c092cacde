/**
 * The engine: while this flotillad leads, turn desired state and bids into
 * assignments. It reacts to watch events (coalesced into one step at a time)
 * and re-runs on a slow timer as a safety net. Every write is fenced by the
 * election revision, so a deposed engine cannot write at all.
 *
 * Plan, then apply: a step gathers a snapshot of the watch-fed caches, asks
 * the pure `decide` (decide.ts) for a plan and applies it: writes through
 * the fence, releases of gone machines, a round to open. A round collects
 * bids (round.ts, with its window timer here) and its resolution is planned
 * by the pure `decideResolution` and applied the same way. This class owns
 * the timers, the I/O and the statistics (counted where writes are made).
 */
import type { Change } from '../registry/prefix-cache.js';
import type { Registry } from '../registry/registry.js';
import { TXN_MAX_OPS } from '../registry/registry.js';
import { encode, type OfferRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage, FencedWriteError } from '../util/errors.js';
import { Coalescer } from '../util/coalesce.js';
import { Batch } from './batch.js';
import { ClusterState, type Source } from './cluster-state.js';
import { busyWith, decide, decideResolution, recordAnswers, type EngineMemory, type EngineSnapshot } from './decide.js';
import { EngineStore } from '../registry/engine-store.js';
import { when, type Condition, type WriteOp } from '../registry/txn.js';
import { PreconditionFailed, type Fence } from './fence.js';
import type { RoundLimits } from './offer-plan.js';
import type { EnginePlan, LogLine, Release, RoundToOpen } from './plan.js';
import { forgetStaleAnswers, Refusals } from './refusals.js';
import { Round, roundId } from './round.js';
import { RoundWindow } from './round-window.js';
import { takeSnapshot } from './snapshot.js';
import { EngineStats, roundStats } from './stats.js';
import { UnplacedBook, type BookChange } from './unplaced-book.js';
import { timerDelay } from '../util/timers.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EngineOptions {
  registry: Registry;
  log: Logger;
  /** Lease TTL of the agent beside this engine: the grace basis for machines it never saw leave. */
  ownTtlSeconds?: number;
  /** How long a round waits for bids from machines that have not answered. */
  roundWindowMs?: number;
  /** Safety-net reconcile period. */
  resyncIntervalMs?: number;
  /** Most units one round places (bounds the engine's work per resolution). */
  maxUnitsPerRound?: number;
  /** Most entries in one offer: distinct contents plus names listed for name-dependent content. */
  maxOfferEntries?: number;
}

/** A step that places at least this many units directly is taken as part of a stream (see reconcile). */
const STREAM_BATCH_UNITS = 50;

/** Steps in a row refused for a stale view after which the caches are read again. */
const VIEW_BEHIND_REREAD = 3;

export class Engine {
  private readonly registry: Registry;
  private readonly store: EngineStore;
  private readonly log: Logger;
  private readonly ownTtlSeconds: number | undefined;
  private readonly resyncIntervalMs: number;
  private readonly limits: RoundLimits;

  private state: ClusterState | undefined;
  private fence: Fence | undefined;
  private round: Round | undefined;
  private readonly roundWindow: RoundWindow;
  private resyncTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** Engine steps failed in a row (not counting fenced-off writes). */
  private failedSteps = 0;
  private readonly reconciles = new Coalescer(async () => {
    if (!this.leading) return;
    try {
      await this.reconcile();
    } catch (err) {
      this.onWriteError(err, 'reconcile');
    }
  });
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = 0;
  private readonly refusals = new Refusals();
  private readonly book: UnplacedBook;
  /** Keys to delete with the next write: bids that arrived after their round resolved, offers of failed resolutions. */
  private readonly leftovers = new Batch();
  /** A round's decision is being written; a reconcile now would see the cache without it. */
  private resolving = false;
  /** The Replaces cycles last reported, so each is logged once. */
  private reportedCycles = '';
  private contentReadsCounted = 0;
  /** No step before this time: set after a step that placed a batch directly (see reconcile). */
  private nextStepAt = 0;
  readonly stats = new EngineStats();
  /**
   * Revision of our last assignment write. Until the assignments watch has
   * caught up with it, the cache does not show our own decisions, and a
   * reconcile would place the same units again.
   */
  private assignmentsWrittenAt = 0;
  /** Steps in a row not applied because the view was behind (see write). */
  private behindSteps = 0;

  constructor(opts: EngineOptions) {
    this.registry = opts.registry;
    this.store = new EngineStore(opts.registry);
    this.ownTtlSeconds = opts.ownTtlSeconds;
    this.log = opts.log;
    this.roundWindow = new RoundWindow(opts.roundWindowMs ?? 300);
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 30_000;
    this.limits = { units: opts.maxUnitsPerRound ?? 10_000, entries: opts.maxOfferEntries ?? 2000 };
    this.book = new UnplacedBook(opts.registry);
  }

  get leading(): boolean {
    return this.fence !== undefined;
  }

  async lead(fence: Fence): Promise<void> {
    await this.stepDown();
    this.fence = fence;
    const state = new ClusterState(this.registry, this.log, this.ownTtlSeconds);
    state.onChange((source, change) => this.onChange(state, source, change));
    await state.start();
    if (this.fence !== fence) {
      await state.close();
      return;
    }
    this.state = state;
    this.contentReadsCounted = 0;
    this.book.invalidate();
    this.refusals.clear();
    // Offers and bids of earlier engines are stale: their rounds will never resolve.
    const batch = new Batch();
    batch.deletePrefix(this.registry.keys.offersPrefix);
    batch.deletePrefix(this.registry.keys.bidsPrefix);
    await this.write(batch);
    this.resyncTimer = setInterval(() => {
      this.refusals.clear();
      this.kick();
    }, this.resyncIntervalMs);
    this.resyncTimer.unref();
    this.kick();
  }

  async stepDown(): Promise<void> {
    this.fence = undefined;
    this.round = undefined;
    this.roundWindow.clear();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    const state = this.state;
    this.state = undefined;
    await state?.close();
  }

  /** Schedule a reconcile; calls while one runs fold into one more run. */
  kick(): void {
    void this.reconciles.run();
  }

  /** A reconcile that starts after this call, finished (tests use it to see that nothing more happens). */
  reconcileNow(): Promise<void> {
    return this.reconciles.run();
  }

  /** A round is open or being written, or the caches do not show our last write yet (see busyWith). */
  get busy(): boolean {
    return busyWith(this.memory(), this.state?.assignmentsRevision ?? Infinity) !== undefined;
  }

  private memory(): EngineMemory {
    return {
      keys: this.registry.keys,
      limits: this.limits,
      refusals: this.refusals,
      book: this.book,
      roundOpen: this.round !== undefined,
      resolving: this.resolving,
      assignmentsWrittenAt: this.assignmentsWrittenAt,
      reportedCycles: this.reportedCycles,
    };
  }

  private onChange(state: ClusterState, source: Source, change: Change<unknown>): void {
    if (source === 'bids') {
      if (change.type !== 'put') return;
      const bid = state.bids.get(change.entry.key)?.value;
      if (!bid) return;
      if (this.round && bid.round === this.round.id) {
        this.round.addBid(bid);
        if (this.round.complete((m) => state.isLive(m))) void this.resolveRound();
        return;
      }
      // A late bid: its machine is alive after all, so its silence is forgiven.
      this.leftovers.delete(change.entry.key);
      this.refusals.heardFrom(bid.machineId);
    } else {
      forgetStaleAnswers(this.refusals, source, change, (key) => state.metadataMachine(key));
    }
    this.kick();
  }

  private onWriteError(err: unknown, what: string): void {
    if (err instanceof FencedWriteError) {
      // fencedWrite logged the rejected write itself (see writeFenced).
      this.log.debug({ what }, 'stepping down after a fenced-off write');
      void this.stepDown();
      return;
    }
    this.book.invalidate();
    // etcd may be down for long: back off to 1 s, and warn once per run of failures.
    const failures = ++this.failedSteps;
    if (failures === 1) this.log.warn({ what, err: errorMessage(err) }, 'engine step failed; retrying until it works');
    else this.log.debug({ what, err: errorMessage(err), failures }, 'engine step failed again');
    setTimeout(() => this.kick(), Math.min(1000, 200 * 2 ** (failures - 1))).unref();
  }

  /**
   * Write a batch (with any leftovers) through the fence, and once it is
   * written remember what it changed: the unplaced records, our revision.
   * The requests are counted here, where they are made.
   */
  /** Resolves true when the whole batch was written, false when the step was not applied (its view was behind). */
  private async write(batch: Batch, unplaced: readonly BookChange[] = [], round?: Round): Promise<boolean> {
    const fence = this.fence;
    if (!fence) return false;
    const leftovers = this.leftovers.moveInto(batch);
    if (batch.size === 0) return true;
    const ops = batch.ops();
    const requests = Math.ceil(ops.length / TXN_MAX_OPS);
    this.stats.etcdRequests += requests;
    if (round) round.requests += requests;
    try {
      const revision = await this.writeFenced(fence, ops, batch.keys(), this.stepConditions(batch));
      if (batch.touchesAssignments) this.assignmentsWrittenAt = revision;
      this.book.record(unplaced);
      if (this.failedSteps > 0) this.log.info({ failures: this.failedSteps }, 'engine writes work again');
      this.failedSteps = 0;
      this.behindSteps = 0;
      return true;
    } catch (err) {
      leftovers.moveInto(this.leftovers);
      if (err instanceof PreconditionFailed) {
        // Our view was behind the store (a unit taken for destroyed exists, or a rollout record
        // changed); that record's watch event kicks the next step, which sees it. Chunks before
        // the one refused are written: the next step waits until the cache shows them, or it
        // could place again what they placed.
        if (batch.touchesAssignments && err.committedAt > 0) this.assignmentsWrittenAt = Math.max(this.assignmentsWrittenAt, err.committedAt);
        this.log.debug({ failed: err.message, committedAt: err.committedAt }, 'the engine\'s view was behind the store; step not applied');
        // Once or twice is a watch event on its way. More in a row: a cache whose watch is stuck
        // (no event would ever come to kick the next step), so it is read again.
        if (++this.behindSteps === VIEW_BEHIND_REREAD) {
          this.log.warn({ failed: err.message, steps: this.behindSteps }, 'engine steps keep finding their view behind the store; re-reading its caches');
          void this.state?.reread().catch((e: unknown) => this.onWriteError(e, 'refresh caches'));
          this.behindSteps = 0;
        }
        return false;
      }
      throw err;
    }
  }

  /**
   * Every engine write goes through here. A rejection by the fence is the
   * proof that a deposed engine (paused, cut off, slow) changed nothing: it is
   * logged with the revision it held and the keys it would have written.
   */
  /**
   * A step's own preconditions besides the fence. The engine's caches are
   * separate watches, so it can see one record before another written in the
   * same or an earlier transaction; etcd, not the caches, has the last word:
   * - units whose assignments it deletes as destroyed must be absent;
   * - assignment writes hold only if the rollouts cache is current: a rollout
   *   record it has not seen may pin hosts of a global unit to the previous
   *   content (src/rollout/pins.ts), and without it the step would give
   *   every host the unit record's new content at once.
   */
  private stepConditions(batch: Batch): Condition[] {
    const out = [...batch.requireAbsent].map((k) => when.absent(k));
    const rollouts = this.state?.rollouts;
    if (batch.touchesAssignments && rollouts) out.push(when.unchangedSince(rollouts.prefix, rollouts.revision));
    return out;
  }

  private async writeFenced(fence: Fence, ops: readonly WriteOp[], keys: string[], own: readonly Condition[] = []): Promise<number> {
    try {
      return await this.store.fencedWrite(fence, ops, own);
    } catch (err) {
      if (err instanceof FencedWriteError) {
        this.stats.fencedWritesRejected++;
        this.log.warn(
          { event: 'fenced-write-rejected', revision: fence.revision, candidate: fence.candidateKey, ops: ops.length, keys: keys.slice(0, 50) },
          'engine write rejected: the election key is no longer at our revision (another engine leads); nothing was written, stepping down',
        );
      }
      throw err;
    }
  }

  /** One step: gather the snapshot, decide, apply. */
  private async reconcile(): Promise<void> {
    // A stream of units (a bulk submit: many writes in a row) is placed in
    // batches a window apart, as a round would collect them, not in one step
    // per write: each step costs the whole cluster's checks, and each batch
    // wakes its hosts once. A single start is placed at once.
    const pause = this.nextStepAt - Date.now();
    if (pause > 0) await sleep(pause);
    const state = this.state;
    if (!state || !this.fence || this.busy) return;
    await state.loadRequirements();
    this.stats.etcdRequests += state.contentReads - this.contentReadsCounted + (await this.book.load());
    this.contentReadsCounted = state.contentReads;
    if (this.state !== state) return;
    const input = this.snapshot(state);
    await this.apply(state, decide(input, this.memory()), input.now);
  }

  private snapshot(state: ClusterState): EngineSnapshot {
    const now = new Date();
    return { view: state, snap: takeSnapshot(state), now };
  }

  private emit(lines: readonly LogLine[]): void {
    for (const l of lines) this.log[l.level](l.fields, l.msg);
  }

  /** `decidedAt`: the snapshot's time, which the plan's departures and wake time were computed from. */
  private async apply(state: ClusterState, plan: EnginePlan, decidedAt: Date): Promise<void> {
    this.emit(plan.log);
    this.reportedCycles = plan.cycles;
    for (const m of plan.departures) state.recordDeparture(m, decidedAt.getTime());
    if (plan.wakeAt !== undefined) this.wakeAt(plan.wakeAt);
    if (plan.releases.length > 0) return this.releaseGoneMachines(plan.releases);
    if (plan.round) await this.openRound(plan.round, plan.writes, plan.unplaced);
    else await this.write(plan.writes, plan.unplaced);
    if (plan.placed.length >= STREAM_BATCH_UNITS) this.nextStepAt = Date.now() + this.roundWindow.windowMs;
    this.stats.unitsUnscheduled += plan.unscheduled.filter((u) => u.rule).length;
    this.stats.unitsPlacedDirectly += plan.placed.length;
  }

  /**
   * Delete the assignments of machines whose lease is gone, each machine in
   * its own transaction that also requires its machine key to be absent: a
   * host that re-registered meanwhile keeps its units, and an agent that read
   * its assignments after re-registering can trust them.
   */
  private async releaseGoneMachines(releases: readonly Release[]): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    for (const { machineId, keys } of releases) {
      try {
        this.stats.etcdRequests++;
        const ops: WriteOp[] = keys.map((key) => ({ op: 'delete', key }));
        const revision = await this.writeFenced(fence, ops, keys, [when.absent(this.registry.keys.machine(machineId))]);
        this.assignmentsWrittenAt = Math.max(this.assignmentsWrittenAt, revision);
      } catch (err) {
        if (!(err instanceof PreconditionFailed)) throw err;
        this.log.info({ machine: machineId }, 'machine came back before its units were released; they stay');
      }
    }
  }

  /** Reconcile again at `at` (held-back OnDisconnect=stop units); the earliest request wins. */
  private wakeAt(at: number): void {
    if (this.wakeTimer && this.wakeTimerAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.kick();
    }, timerDelay(at - Date.now() + 5));
    this.wakeTimer.unref();
  }

  private async openRound(open: RoundToOpen, batch: Batch, unplaced: readonly BookChange[]): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    const id = roundId(fence.revision, ++this.seq);
    const round = new Round(id, open.units, new Set(open.machines));
    this.round = round;
    const offer: OfferRecord = { round: id, contents: open.contents };
    batch.put(this.registry.keys.offer(id), encode(offer), fence.leaseId);
    try {
      // Not applied: no offer was published, so the round could never resolve.
      if (!(await this.write(batch, unplaced, round))) {
        if (this.round === round) this.round = undefined;
        return;
      }
    } catch (err) {
      // Without its offer the round can never resolve; do not let it block the next one.
      if (this.round === round) this.round = undefined;
      throw err;
    }
    if (this.round !== round) return;
    this.log.debug({ round: id, units: open.units.length, contents: open.contents.length, machines: open.machines.length }, 'offer published');
    this.roundWindow.arm(round, (r) => this.round === r, (m) => this.state?.isLive(m) ?? false, () => void this.resolveRound());
    // Bids may have arrived before we stored the round.
    for (const e of this.state?.bids.values() ?? []) round.addBid(e.value);
    if (round.complete((m) => this.state?.isLive(m) ?? false)) void this.resolveRound();
  }

  private async resolveRound(): Promise<void> {
    const round = this.round;
    const state = this.state;
    if (!round || !state || this.resolving) return;
    this.round = undefined;
    this.roundWindow.clear();
    this.resolving = true;
    try {
      await this.resolve(round, state);
    } catch (err) {
      // The offer and its bids would linger on the engine's lease.
      this.leftovers.delete(this.registry.keys.offer(round.id));
      this.leftovers.deletePrefix(this.registry.keys.roundBidsPrefix(round.id));
      this.onWriteError(err, 'resolve round');
    } finally {
      this.resolving = false;
    }
    this.kick();
  }

  private async resolve(round: Round, state: ClusterState): Promise<void> {
    // Content replaced since the offer must be judged by its new requirements.
    await state.loadRequirements();
    const input = this.snapshot(state);
    const plan = decideResolution(input, this.memory(), round);
    this.emit(plan.log);
    for (const m of plan.departures) state.recordDeparture(m, input.now.getTime());
    if (!(await this.write(plan.writes, plan.unplaced, round))) {
      // Not applied (the view was behind): the round's offer and bids still go, and the next
      // step, kicked by the record that changed, plans its units again.
      this.leftovers.delete(this.registry.keys.offer(round.id));
      this.leftovers.deletePrefix(this.registry.keys.roundBidsPrefix(round.id));
      return;
    }
    recordAnswers(this.refusals, round, plan.resolution, state);
    const stats = roundStats(round, plan.resolution.decision, plan.resolution.bids.length);
    this.stats.addRound(stats);
    this.log.debug({ ...stats, totals: this.stats.totals() }, 'round resolved');
  }
}
