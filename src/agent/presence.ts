/**
 * The agent's presence: a lease kept alive while this flotillad runs, and the
 * machine key on it. Everything ephemeral the agent writes (machine, states,
 * bids, election candidacy) hangs on this lease, so a dead host disappears
 * from the store in one step when the lease expires.
 *
 * The lease id is remembered on disk: a flotillad restarted after a crash
 * recognises the machine key of its previous life and takes it over at once,
 * where fleet waited out the TTL; a live key on a lease we never held means a
 * second host claims our machine id, and we refuse to register over it.
 *
 * The lease is given up only when etcd says it has expired (LeaseKeeper):
 * after a whole-store outage the lease is still valid, and keeping it means
 * nothing about this machine changes in the store.
 */
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import type { AgentStore } from '../registry/agent-store.js';
import type { LeaseKeeper } from '../registry/lease-keeper.js';
import type { MachineRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { delay } from '../util/deadline.js';
import { errorMessage } from '../util/errors.js';

export interface PresenceEvents {
  /** A (new) lease is in force and the machine key is on it. */
  lease: [leaseId: string];
  /** etcd acknowledged a keepalive of the current lease, after this round trip. */
  renewed: [roundTripMs: number];
  /** No acknowledgement for a whole TTL: the lease may have expired, or etcd may be down. */
  silent: [];
  /** etcd says the lease expired or was revoked; a new one is being sought. */
  lost: [];
}

/** Longest wait between registration attempts: a host whose lease expired should be back soon after etcd is. */
const MAX_RETRY_MS = 1000;

/**
 * Deadline of each registration request: a third of the TTL (at least 0.5 s).
 * A request proposed just as etcd's leader dies is lost and would wait out the
 * whole request timeout (5 s): a flotillad restarted then would lose the lease
 * of its previous life, which it could have taken over, and its units would move.
 */
function registrationDeadlineMs(ttlSeconds: number): number {
  return Math.max(500, (ttlSeconds * 1000) / 3);
}

/** The machine key is definitely someone else's: the claim did not commit. */
class MachineKeyRefused extends Error {}

export class Presence extends EventEmitter<PresenceEvents> {
  private lease: LeaseKeeper | undefined;
  private currentId: string | undefined;
  private stopped = false;

  constructor(
    private readonly store: AgentStore,
    private machine: MachineRecord,
    private readonly ttlSeconds: number,
    private readonly leaseFile: string,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Leases of claims whose outcome is unknown: if the machine key is on one, it is ours to take over. */
  private readonly orphans = new Set<string>();

  get leaseId(): string | undefined {
    return this.currentId;
  }

  async start(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error('presence stopped');
      try {
        return await this.establish();
      } catch (err) {
        const wait = Math.min(MAX_RETRY_MS, 200 * 2 ** Math.min(attempt, 5));
        this.log.warn({ err: errorMessage(err), retryMs: wait }, 'registering machine failed; retrying');
        await delay(wait);
      }
    }
  }

  private async establish(): Promise<string> {
    const previous = await this.readLeaseFile();
    const lease = await this.store.grantLease(this.ttlSeconds, this.log, registrationDeadlineMs(this.ttlSeconds));
    const id = lease.id;
    try {
      await this.claimMachineKey(id, previous);
    } catch (err) {
      // A claim that timed out may still have committed: revoking then would delete our own
      // machine key and make the engine move every unit of this host.
      const on = err instanceof MachineKeyRefused ? 'refused' : await this.keyHolder().then((h) => h ?? 'absent', () => 'unknown');
      if (on !== id) {
        if (on === 'unknown') {
          // Outcome unknown: leave the lease to expire and accept it as ours on the next try.
          this.orphans.add(id);
          lease.release();
        } else {
          await lease.revoke();
        }
        throw err;
      }
      this.log.info({ lease: id }, 'machine key claim timed out but had committed');
    }
    await writeFile(this.leaseFile, id).catch((err) => this.log.warn({ err: errorMessage(err) }, 'cannot remember lease id'));
    lease.on('expired', () => this.onLost(lease));
    lease.on('renewed', (roundTripMs) => {
      if (this.lease === lease) this.emit('renewed', roundTripMs);
    });
    lease.on('silent', () => {
      if (this.lease === lease) this.emit('silent');
    });
    this.lease = lease;
    lease.start();
    this.currentId = id;
    this.log.info({ machine: this.machine.id, lease: id, ttl: this.ttlSeconds }, 'machine registered');
    this.emit('lease', id);
    return id;
  }

  /** Put the machine key on lease `id`, if it is free or held by our own previous life (`previous`). */
  private async claimMachineKey(id: string, previous: string | undefined): Promise<void> {
    const record: MachineRecord = { ...this.machine, ttlSeconds: this.ttlSeconds };
    const deadlineMs = registrationDeadlineMs(this.ttlSeconds);
    if (await this.store.putMachine(record, id, { free: true, deadlineMs })) return;
    const holder = await this.keyHolder();
    if (holder !== undefined && holder !== previous && !this.orphans.has(holder)) {
      throw new MachineKeyRefused(`machine id ${this.machine.id} is registered by another live flotillad (lease ${holder}); waiting for it to go away`);
    }
    if (!(await this.store.putMachine(record, id, { heldBy: holder, deadlineMs }))) throw new MachineKeyRefused('machine key changed while taking it over');
    this.log.info({ previousLease: holder }, 'took over machine key from previous run');
  }

  /**
   * Publish a changed machine record (a config reload). The key stays on the
   * current lease; without one, the next registration writes the new record.
   * Resolves false when the key was not ours to rewrite (being re-registered).
   */
  async updateMachine(machine: MachineRecord): Promise<boolean> {
    this.machine = machine;
    const id = this.currentId;
    if (id === undefined) return false;
    const record: MachineRecord = { ...machine, ttlSeconds: this.ttlSeconds };
    return this.store.putMachine(record, id, { heldBy: id, deadlineMs: registrationDeadlineMs(this.ttlSeconds) });
  }

  /**
   * Whether the lease has gone silent: no lease, or etcd has not confirmed it
   * for 2/3 of the TTL. Checking by the clock also emits `silent` if that is
   * due and its timer has not fired yet (LeaseKeeper's checkAndReportSilence does both), so
   * callers that need the hold to take effect call this for that effect.
   */
  checkSilence(): boolean {
    return this.lease?.checkAndReportSilence() ?? true;
  }

  /** The lease the machine key is on now (undefined: no key). */
  private async keyHolder(): Promise<string | undefined> {
    return this.store.machineKeyLease(registrationDeadlineMs(this.ttlSeconds));
  }

  private onLost(lease: LeaseKeeper): void {
    if (this.stopped || this.lease !== lease) return;
    this.log.warn({ lease: lease.id }, 'presence lease lost; re-registering');
    this.lease = undefined;
    this.currentId = undefined;
    this.emit('lost');
    // start() retries registration itself until it succeeds or stop() is called; it rejects only when stopped.
    void this.start().catch(() => undefined);
  }

  private async readLeaseFile(): Promise<string | undefined> {
    try {
      return (await readFile(this.leaseFile, 'utf8')).trim() || undefined;
    } catch {
      // No file (first start) or an unreadable one: register on a new lease, as with no previous one.
      return undefined;
    }
  }

  /** Leave the cluster now: the machine key and everything on the lease go at once. */
  async revoke(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await lease.revoke();
  }

  /** Stop keeping the lease alive but leave it to expire (upgrade in place). */
  release(): void {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) lease.release();
  }
}
