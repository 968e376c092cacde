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
 */
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import type { Etcd3, Lease } from 'etcd3';
import type { Keys } from '../registry/keys.js';
import { encode, type MachineRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { delay } from '../util/deadline.js';
import { errorMessage } from '../util/errors.js';

export interface PresenceEvents {
  /** A (new) lease is in force and the machine key is on it. */
  lease: [leaseId: string];
  /** etcd acknowledged a keepalive of the current lease. */
  renewed: [];
  /** The lease expired or was revoked behind our back; a new one is being sought. */
  lost: [];
}

export class Presence extends EventEmitter<PresenceEvents> {
  private lease: Lease | undefined;
  private currentId: string | undefined;
  private stopped = false;

  constructor(
    private readonly etcd: Etcd3,
    private readonly keys: Keys,
    private readonly machine: MachineRecord,
    private readonly ttlSeconds: number,
    private readonly leaseFile: string,
    private readonly log: Logger,
  ) {
    super();
  }

  get leaseId(): string | undefined {
    return this.currentId;
  }

  async start(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error('presence stopped');
      try {
        return await this.establish();
      } catch (err) {
        const wait = Math.min(5000, 200 * 2 ** Math.min(attempt, 5));
        this.log.warn({ err: errorMessage(err), retryMs: wait }, 'registering machine failed; retrying');
        await delay(wait);
      }
    }
  }

  private async establish(): Promise<string> {
    const previous = await this.readLeaseFile();
    const lease = this.etcd.lease(this.ttlSeconds, { autoKeepAlive: true });
    const id = await lease.grant();
    const key = this.keys.machine(this.machine.id);
    const record: MachineRecord = { ...this.machine, ttlSeconds: this.ttlSeconds };
    const put = () => this.etcd.put(key).value(encode(record)).lease(id);
    // Register only if the key is free, or held by our own previous life.
    let txn = this.etcd.if(key, 'Create', '==', 0);
    const res = await txn.then(put()).commit();
    if (!res.succeeded) {
      const held = await this.etcd.get(key).exec();
      const holder = held.kvs[0] ? String(held.kvs[0].lease) : undefined;
      if (holder !== undefined && holder !== previous) {
        await lease.revoke().catch(() => undefined);
        throw new Error(`machine id ${this.machine.id} is registered by another live flotillad (lease ${holder}); waiting for it to go away`);
      }
      txn = this.etcd.if(key, 'Lease', '==', holder ?? '0');
      const again = await txn.then(put()).commit();
      if (!again.succeeded) {
        await lease.revoke().catch(() => undefined);
        throw new Error('machine key changed while taking it over');
      }
      this.log.info({ previousLease: holder }, 'took over machine key from previous run');
    }
    await writeFile(this.leaseFile, id).catch((err) => this.log.warn({ err: errorMessage(err) }, 'cannot remember lease id'));
    lease.on('lost', (err) => this.onLost(lease, err));
    lease.on('keepaliveSucceeded', () => {
      if (this.lease === lease) this.emit('renewed');
    });
    this.lease = lease;
    this.currentId = id;
    this.log.info({ machine: this.machine.id, lease: id, ttl: this.ttlSeconds }, 'machine registered');
    this.emit('lease', id);
    return id;
  }

  private onLost(lease: Lease, err: Error): void {
    if (this.stopped || this.lease !== lease) return;
    this.log.warn({ err: errorMessage(err) }, 'presence lease lost; re-registering');
    this.lease = undefined;
    this.currentId = undefined;
    this.emit('lost');
    void this.start().catch(() => undefined);
  }

  private async readLeaseFile(): Promise<string | undefined> {
    try {
      return (await readFile(this.leaseFile, 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Leave the cluster now: the machine key and everything on the lease go at once. */
  async revoke(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await lease.revoke().catch(() => undefined);
  }

  /** Stop keeping the lease alive but leave it to expire (upgrade in place). */
  release(): void {
    this.stopped = true;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) lease.release();
  }
}
