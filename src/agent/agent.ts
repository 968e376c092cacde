/**
 * The agent role of flotillad: presence, bids, and running what the engine
 * assigned to this machine. It watches only its own assignment prefix and
 * the offers; its systemd states flow back through the reporter.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Registry } from '../registry/registry.js';
import { AgentStore } from '../registry/agent-store.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import type { AssignmentRecord, MachineRecord } from '../registry/records.js';
import { assignmentKeyOf } from '../registry/records-at.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { delay } from '../util/deadline.js';
import { Bidder } from './bidder.js';
import { ContentCache } from './content-cache.js';
import { localHostFacts } from '../conditions/host-facts.js';
import { MachineMetadata } from './metadata.js';
import { Presence } from './presence.js';
import { Reconciler } from './reconciler.js';
import { StateReporter } from './reporter.js';
import { UnitFiles } from './unit-files.js';
import { FENCE_DEADLINE_FRACTION, HostFence } from './fence.js';
import { Handovers, handoverTimeoutMs } from './handover.js';
import type { UnitManager } from './unit-manager.js';

export interface AgentOptions {
  registry: Registry;
  machine: MachineRecord;
  ttlSeconds: number;
  unitsDirectory: string;
  manager: UnitManager;
  log: Logger;
  /** Slow safety-net re-read of unit states; signals do the real work. */
  resyncIntervalMs?: number;
  /**
   * Directory under which path conditions (ConditionPathExists=, ...) are
   * looked up; default `/`. Simulated hosts sharing one filesystem each get
   * their own (config key `host_root`).
   */
  hostRoot?: string;
}

export interface AgentEvents {
  lease: [leaseId: string];
  /** A reconcile batch ended (it may have had nothing to do): how long it took. */
  batch: [seconds: number];
}

export class Agent extends EventEmitter<AgentEvents> {
  readonly presence: Presence;
  private readonly files: UnitFiles;
  private readonly fence: HostFence;
  private started = false;
  private readonly assignments: PrefixCache<AssignmentRecord>;
  private readonly reporter: StateReporter;
  private readonly reconciler: Reconciler;
  private readonly bidder: Bidder;
  private readonly metadata: MachineMetadata;
  private readonly log: Logger;
  private unsubscribe: (() => void) | undefined;
  /** Held because etcd has not confirmed our lease for 2/3 of its TTL (not because it expired). */
  private heldForSilence = false;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AgentOptions) {
    super();
    const { registry, machine, log } = opts;
    const store = new AgentStore(registry, machine.id);
    this.log = log;
    this.files = new UnitFiles(opts.unitsDirectory);
    this.fence = new HostFence(opts.manager, join(opts.unitsDirectory, 'fence'), opts.ttlSeconds * 1000 * FENCE_DEADLINE_FRACTION, log);
    this.presence = new Presence(store, machine, opts.ttlSeconds, join(opts.unitsDirectory, '.lease'), log);
    this.assignments = store.ownAssignments(log);
    this.reporter = new StateReporter(store, log);
    const contents = new ContentCache(store);
    const handovers = new Handovers(store, handoverTimeoutMs(opts.ttlSeconds), () => void this.reconciler.kick(), log);
    this.reconciler = new Reconciler(() => this.desired(), this.files, contents, opts.manager, this.reporter, handovers, log, () => this.unreadable());
    this.reconciler.batchObserver = (seconds) => this.emit('batch', seconds);
    this.metadata = new MachineMetadata(store, machine.metadata, log);
    const facts = localHostFacts({ machineId: machine.id, root: opts.hostRoot ?? '/', metadata: () => this.metadata.current() });
    this.bidder = new Bidder(store, facts, contents, () => this.load(), log);
    this.assignments.onChange(() => void this.reconciler.kick());
    // The engine re-offers what this machine refused once it sees the metadata
    // change; answering open rounds again covers a round already in flight.
    // Units assigned here that no longer match are the engine's to move.
    this.metadata.onChange(() => this.bidder.reconsider());
  }

  /**
   * The bid's load: every unit this host runs or has been told to run, global
   * units included (they are assignments like any other), counted once.
   * Units on disk but no longer assigned count until they are unloaded.
   */
  private load(): number {
    const units = new Set(this.desired().keys());
    for (const u of this.reconciler.localUnits()) units.add(u);
    return units.size;
  }

  private desired(): Map<string, AssignmentRecord> {
    const out = new Map<string, AssignmentRecord>();
    for (const e of this.assignments.values()) out.set(e.value.unit, e.value);
    return out;
  }

  /**
   * Units whose assignment here exists but does not decode (corrupt or
   * edited by hand): not an order to stop. They are left as they are until
   * the assignment is readable again (the engine rewrites it) or deleted.
   */
  private unreadable(): Set<string> {
    const out = new Set<string>();
    for (const m of this.assignments.malformed()) {
      const at = assignmentKeyOf(this.opts.registry.keys, m.key);
      if (at?.machineId === this.opts.machine.id) out.add(at.unit);
    }
    return out;
  }

  /**
   * A renewal re-arms the switch; if it had fired, the bound units start
   * again. A renewal after a silence proves the lease never expired (the
   * engine cannot have moved anything of ours): act on assignments again.
   */
  private async renewed(): Promise<void> {
    if (this.heldForSilence) {
      this.heldForSilence = false;
      this.log.info('lease confirmed again after a silence: it never expired; carrying on');
      this.reconciler.release();
      void this.reconciler.kick();
    }
    await this.rearm();
  }

  /** Re-arm the dead man's switch; if it had fired, the bound units start again. */
  private async rearm(): Promise<void> {
    try {
      if (await this.fence.arm()) {
        this.log.warn('lease dead man\'s switch had fired: restarting OnDisconnect=stop units');
        this.reconciler.fenceFired();
        await this.reconciler.kick();
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'arming the lease dead man\'s switch failed');
    }
  }

  /**
   * A lease after a lost one: while we were gone the engine may have given our
   * units to other machines. Read our assignments afresh (the store's answer
   * now postdates our re-registration, after which the engine can no longer
   * take them away) before running anything again.
   */
  private async afterNewLease(): Promise<void> {
    if (!this.started) return;
    for (;;) {
      try {
        await this.assignments.refresh();
        break;
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 're-reading assignments after a new lease failed; keeping still, retrying');
        await delay(1000);
      }
    }
    this.reconciler.markReturning();
    // The new lease may itself have gone quiet while we retried: then stay held until it is confirmed.
    if (!this.presence.checkSilence()) this.reconciler.release();
    await this.rearm();
    await this.reconciler.kick();
  }

  async start(): Promise<void> {
    await this.files.init();
    await this.fence.install();
    await this.reconciler.adopt();
    // A restart is a return: units released while no flotillad ran here are handed over.
    this.reconciler.markReturning();
    this.unsubscribe = this.opts.manager.onUnitChange((name, status) => {
      if (this.reconciler.has(name)) this.reporter.update(name, status);
    });
    // Emits `silent` (which holds the reconciler) if the lease went silent before its timer fired.
    this.reconciler.beforeBatch = () => void this.presence.checkSilence();
    this.presence.on('renewed', () => void this.renewed());
    // Until etcd answers, assignments we hold may already be someone else's: change nothing.
    this.presence.on('silent', () => {
      this.heldForSilence = true;
      this.reconciler.hold();
    });
    this.presence.on('lost', () => {
      this.heldForSilence = false;
      this.reconciler.hold();
    });
    this.presence.on('lease', (id) => {
      void this.afterNewLease();
      this.reporter.useLease(id);
      this.bidder.useLease(id);
      this.emit('lease', id);
    });
    const leaseId = await this.presence.start();
    await this.rearm();
    this.reporter.useLease(leaseId);
    await this.assignments.start();
    await this.reconciler.kick();
    await this.metadata.start();
    await this.bidder.start(leaseId);
    this.started = true;
    this.resyncTimer = setInterval(() => void this.resync(), this.opts.resyncIntervalMs ?? 60_000);
    this.resyncTimer.unref();
  }

  /**
   * A reloaded config changed what this machine publishes: the machine
   * record is rewritten on the same lease (the engine re-checks the units
   * placed here, and re-offers what this machine refused), and open rounds
   * are answered again with the new metadata. No unit is touched here.
   */
  async updateMachine(machine: MachineRecord): Promise<boolean> {
    this.metadata.setConfig(machine.metadata);
    return this.presence.updateMachine(machine);
  }

  private async resync(): Promise<void> {
    try {
      for (const unit of this.desired().keys()) {
        if (!this.reconciler.has(unit) || !this.reporter.get(unit)) continue;
        const s = await this.opts.manager.unitStatus(unit);
        this.reporter.update(unit, { load: s.load, active: s.active, sub: s.sub });
      }
      await this.reconciler.kick();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'state resync failed');
    }
  }

  /**
   * Leave the cluster. By default (fleet's behaviour) stop and unload every
   * unit here, remove its states and revoke the lease so the engine re-places
   * them at once. With keepUnits (upgrade in place) the units keep running and
   * the lease is left to expire; a new flotillad started within the TTL
   * adopts them without a restart.
   */
  async stop(opts: { keepUnits: boolean }): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.bidder.close();
    await this.metadata.close();
    await this.assignments.close();
    this.unsubscribe?.();
    if (opts.keepUnits) {
      await this.reconciler.halt();
      // Best effort on the way out: states hang on the lease, and the next flotillad republishes them.
      await this.reporter.flush().catch(() => undefined);
      this.presence.release();
      return;
    }
    await this.reconciler.unloadAll();
    await this.fence.disarm();
    // Best effort on the way out: the revoke below deletes every state on the lease anyway.
    await this.reporter.flush().catch(() => undefined);
    await this.presence.revoke();
  }
}
