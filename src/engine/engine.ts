/**
 * The engine: while this flotillad leads, turn desired state and bids into
 * assignments. It reacts to watch events (coalesced into one reconcile at a
 * time) and re-runs on a slow timer as a safety net. Every write is fenced by
 * the election revision, so a deposed engine cannot write at all.
 */
import type { IOperation } from 'etcd3';
import type { Registry } from '../registry/registry.js';
import { encode, type AssignmentRecord, type OfferedUnit, type UnitRecord } from '../registry/records.js';
import { placeUnits, type Candidate, type PlacementRequest } from '../scheduler/index.js';
import type { Logger } from '../util/log.js';
import { errorMessage, FencedWriteError } from '../util/errors.js';
import { ClusterState } from './cluster-state.js';
import { fencedWrite, type Fence } from './fence.js';
import { Round, roundId } from './round.js';
import { Refusals } from './refusals.js';
import { Coalescer } from '../util/coalesce.js';

export interface EngineOptions {
  registry: Registry;
  log: Logger;
  /** How long a round waits for bids from machines that have not answered. */
  roundWindowMs?: number;
  /** Safety-net reconcile period. */
  resyncIntervalMs?: number;
  /** Most units offered in one round (keeps offers and bids small). */
  maxUnitsPerRound?: number;
}

export class Engine {
  private readonly registry: Registry;
  private readonly log: Logger;
  private readonly roundWindowMs: number;
  private readonly resyncIntervalMs: number;
  private readonly maxUnitsPerRound: number;

  private state: ClusterState | undefined;
  private fence: Fence | undefined;
  private round: Round | undefined;
  private roundTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly reconciles = new Coalescer(async () => {
    if (!this.leading) return;
    try {
      await this.reconcile();
    } catch (err) {
      this.onWriteError(err, 'reconcile');
    }
  });
  private readonly refusals = new Refusals();
  /**
   * Revision of our last assignment write. Until the assignments watch has
   * caught up with it, the cache does not show our own decisions, and a
   * reconcile would place the same units again.
   */
  private assignmentsWrittenAt = 0;

  constructor(opts: EngineOptions) {
    this.registry = opts.registry;
    this.log = opts.log;
    this.roundWindowMs = opts.roundWindowMs ?? 300;
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 30_000;
    this.maxUnitsPerRound = opts.maxUnitsPerRound ?? 2000;
  }

  get leading(): boolean {
    return this.fence !== undefined;
  }

  async lead(fence: Fence): Promise<void> {
    await this.stepDown();
    this.fence = fence;
    const state = new ClusterState(this.registry, this.log);
    state.onChange((source, change) => {
      if (source === 'bids' && change.type === 'put') {
        const bid = state.bids.get(change.entry.key)?.value;
        if (bid && this.round) {
          this.round.addBid(bid);
          if (this.round.complete((m) => state.isLive(m))) void this.resolveRound();
        }
        return;
      }
      if (source === 'bids') return;
      if (source === 'machines' && change.type === 'put' && !change.previous) {
        const joined = state.machines.get(change.entry.key)?.value.id;
        if (joined) this.refusals.clearMachine(joined);
      }
      this.kick();
    });
    await state.start();
    if (this.fence !== fence) {
      await state.close();
      return;
    }
    this.state = state;
    // Offers and bids of earlier engines are stale: their rounds will never resolve.
    await this.write([this.registry.etcd.delete().prefix(this.registry.keys.offersPrefix), this.registry.etcd.delete().prefix(this.registry.keys.bidsPrefix)]);
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
    if (this.roundTimer) clearTimeout(this.roundTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    const state = this.state;
    this.state = undefined;
    await state?.close();
  }

  /** Schedule a reconcile; calls while one runs fold into one more run. */
  kick(): void {
    void this.reconciles.run();
  }

  private onWriteError(err: unknown, what: string): void {
    if (err instanceof FencedWriteError) {
      this.log.warn({ what }, 'engine write fenced off: no longer leader');
      void this.stepDown();
      return;
    }
    this.log.warn({ what, err: errorMessage(err) }, 'engine step failed; will retry');
    setTimeout(() => this.kick(), 200).unref();
  }

  private async write(ops: IOperation[], touchesAssignments = false): Promise<void> {
    const fence = this.fence;
    if (!fence || ops.length === 0) return;
    const revision = await fencedWrite(this.registry.etcd, fence, ops);
    if (touchesAssignments) this.assignmentsWrittenAt = revision;
  }

  private async reconcile(): Promise<void> {
    const state = this.state;
    if (!state || !this.fence) return;
    // Our own last write has not reached the cache yet; its watch event will kick us again.
    if (state.assignments.revision < this.assignmentsWrittenAt) return;
    await state.loadRequirements();
    const etcd = this.registry.etcd;
    const ops: IOperation[] = [];
    const placed = new Map<string, Set<string>>(); // unit -> machines after this pass

    for (const { key, machineId, record } of state.placedAssignments()) {
      const unit = state.unit(record.unit);
      const why = !unit
        ? 'unit destroyed'
        : unit.desired === 'inactive'
          ? 'desired state inactive'
          : !state.isLive(machineId)
            ? `machine ${machineId} went away`
            : undefined;
      if (why || !unit) {
        this.log.info({ unit: record.unit, machine: machineId, reason: why }, 'unscheduling unit');
        ops.push(etcd.delete().key(key));
        continue;
      }
      const reqs = state.requirementsOf(unit);
      const machines = placed.get(unit.name) ?? new Set<string>();
      if (reqs?.ok && !reqs.requirements.global && machines.size > 0) {
        // Never two copies of a non-global unit: keep the first, drop the rest.
        ops.push(etcd.delete().key(key));
        continue;
      }
      machines.add(machineId);
      placed.set(unit.name, machines);
      if (record.hash !== unit.hash || record.desired !== unit.desired) {
        ops.push(etcd.put(key).value(encode(assignmentFor(unit))));
      }
    }
    if (ops.length > 0) {
      await this.write(ops, true);
      return; // continue once the cache shows the result
    }

    if (this.round) return; // one round at a time; resolution kicks again
    const live = state.liveMachineIds();
    const offered: OfferedUnit[] = [];
    for (const e of state.units.values()) {
      const unit = e.value;
      if (unit.desired === 'inactive') continue;
      const reqs = state.requirementsOf(unit);
      if (!reqs) continue;
      if (!reqs.ok) {
        this.refusals.recordEverywhere(unit, live, reqs.reason);
        continue;
      }
      const here = placed.get(unit.name) ?? new Set<string>();
      const global = reqs.requirements.global;
      if (!global && here.size > 0) continue;
      const open = live.filter((m) => !here.has(m) && !this.refusals.refused(unit, m));
      if (open.length === 0) continue;
      offered.push({ name: unit.name, hash: unit.hash, global });
      if (offered.length >= this.maxUnitsPerRound) break;
    }
    if (offered.length === 0 || live.length === 0) return;
    await this.openRound(offered, live);
  }

  private async openRound(units: OfferedUnit[], live: string[]): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    const id = roundId(fence.revision, ++this.seq);
    const round = new Round(id, units, new Set(live));
    this.round = round;
    const etcd = this.registry.etcd;
    await this.write([etcd.put(this.registry.keys.offer(id)).value(encode({ round: id, units })).lease(fence.leaseId)]);
    this.log.debug({ round: id, units: units.length, machines: live.length }, 'offer published');
    this.roundTimer = setTimeout(() => void this.resolveRound(), this.roundWindowMs);
    this.roundTimer.unref();
    // Bids may have arrived before we stored the round.
    for (const e of this.state?.bids.values() ?? []) round.addBid(e.value);
    if (round.complete((m) => this.state?.isLive(m) ?? false)) void this.resolveRound();
  }

  private async resolveRound(): Promise<void> {
    const round = this.round;
    const state = this.state;
    if (!round || !state) return;
    this.round = undefined;
    if (this.roundTimer) clearTimeout(this.roundTimer);

    const load = new Map<string, number>();
    const unitsByMachine = new Map<string, Set<string>>();
    const placedUnits = new Set<string>();
    for (const { machineId, record } of state.placedAssignments()) {
      placedUnits.add(record.unit);
      load.set(machineId, (load.get(machineId) ?? 0) + 1);
      let s = unitsByMachine.get(machineId);
      if (!s) unitsByMachine.set(machineId, (s = new Set()));
      s.add(record.unit);
    }
    const offeredNames = round.units.map((u) => u.name);
    const candidates: Candidate[] = round
      .received()
      .filter((b) => state.isLive(b.machineId))
      .map((b) => {
        const refuses = new Map(Object.entries(b.refuse));
        return {
          machineId: b.machineId,
          // The engine's own count is newer than the bid's: it includes assignments written since.
          load: load.get(b.machineId) ?? 0,
          accepts: new Set(offeredNames.filter((n) => !refuses.has(n))),
          refuses,
        };
      });

    const requests: PlacementRequest[] = [];
    for (const offered of round.units) {
      const unit = state.unit(offered.name);
      if (!unit || unit.desired === 'inactive' || unit.hash !== offered.hash) continue;
      const reqs = state.requirementsOf(unit);
      if (!reqs?.ok) continue;
      if (!reqs.requirements.global && placedUnits.has(unit.name)) continue;
      requests.push({ unit: unit.name, requirements: reqs.requirements });
    }

    const decision = placeUnits(requests, candidates, { unitsByMachine });
    const etcd = this.registry.etcd;
    const keys = this.registry.keys;
    const ops: IOperation[] = [];
    for (const p of decision.placements) {
      const unit = state.unit(p.unit);
      if (!unit) continue;
      ops.push(etcd.put(keys.assignment(p.machineId, p.unit)).value(encode(assignmentFor(unit))));
      this.log.info({ unit: p.unit, machine: p.machineId, round: round.id }, 'scheduled unit');
    }
    for (const u of decision.unplaced) {
      const unit = state.unit(u.unit);
      if (unit) this.refusals.record(unit, u.reasons);
      this.log.info({ unit: u.unit, reasons: u.reasons }, 'no machine can run unit now');
    }
    ops.push(etcd.delete().key(keys.offer(round.id)), etcd.delete().prefix(keys.roundBidsPrefix(round.id)));
    try {
      await this.write(ops, decision.placements.length > 0);
    } catch (err) {
      this.onWriteError(err, 'resolve round');
      return;
    }
    this.kick();
  }
}

function assignmentFor(unit: UnitRecord): AssignmentRecord {
  if (unit.desired === 'inactive') throw new Error(`unit ${unit.name} is inactive: nothing to assign`);
  return { unit: unit.name, hash: unit.hash, desired: unit.desired };
}
