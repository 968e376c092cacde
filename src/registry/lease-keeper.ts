/**
 * Keeps one etcd lease alive, and gives it up only when etcd itself says it
 * has expired.
 *
 * etcd3's own Lease declares a lease lost after 2 x TTL without an answer,
 * even when etcd could not answer because it was down as a whole. But etcd
 * cannot expire a lease while it is down, and its new leader gives every
 * lease a fresh TTL when it is elected: after a whole-store outage the old
 * lease is still valid. A holder that had given it up would register anew
 * while its old keys (machine, states, engine candidacy) lived on until the
 * old lease expired, and then vanished: its units would be re-placed and the
 * engine would change hands, all because etcd had been down. So this keeper
 * never gives up on its own; it keeps asking until etcd answers, and reports:
 *
 * - `renewed`: etcd confirmed the lease (a keepalive answer with TTL > 0),
 *   with the round trip of that keepalive;
 * - `silent`: no confirmation for 2/3 of the TTL (two renewals in a row
 *   unanswered): the lease may be about to expire, so the holder should act
 *   on nothing it cannot re-check (emitted once per silence). It comes at
 *   least TTL/3 before etcd can expire the lease, so before anything released
 *   because of that expiry can reach the holder;
 * - `expired`: etcd answered that the lease does not exist any more.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../util/log.js';
import { delay } from '../util/deadline.js';
import { errorMessage } from '../util/errors.js';

export interface LeaseKeeperEvents {
  /** With the keepalive's round trip: from the request written to etcd's answer. */
  renewed: [roundTripMs: number];
  silent: [];
  expired: [];
}

/** The part of a keepalive stream this keeper uses (etcd3's duplex stream). */
interface KeepAliveStream {
  on(event: 'data', listener: (res: { TTL: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  write(req: { ID: string }): unknown;
  end(): unknown;
}

/** A failed or stalled stream is opened again after this long (etcd's circuit breaker paces it further). */
const RETRY_MS = 250;

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  private closed = false;
  private stream: KeepAliveStream | undefined;
  private silentTimer: NodeJS.Timeout | undefined;
  private silent = false;
  /** When etcd last confirmed the lease (monotonic clock): timers can fire late, the clock cannot lie. */
  private confirmedAt = performance.now();
  private failing = false;

  private constructor(
    private readonly etcd: Etcd3,
    readonly id: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {
    super();
  }

  /** `deadlineMs`: give up the grant after this long (a proposal lost with an etcd leader waits out the whole request timeout). */
  static async grant(etcd: Etcd3, ttlSeconds: number, log: Logger, deadlineMs?: number): Promise<LeaseKeeper> {
    const options = deadlineMs === undefined ? undefined : { deadline: Date.now() + deadlineMs };
    const res = await etcd.leaseClient.leaseGrant({ TTL: ttlSeconds }, options);
    return new LeaseKeeper(etcd, String(res.ID), ttlSeconds, log);
  }

  /** Start renewing: every TTL/3, as etcd's Go client does. */
  start(): void {
    this.armSilence();
    void this.loop();
  }

  /** Stop renewing and leave the lease to expire (its keys live until then). */
  release(): void {
    this.close();
  }

  /** Stop renewing and delete the lease with its keys now. */
  async revoke(): Promise<void> {
    this.close();
    await this.etcd.leaseClient.leaseRevoke({ ID: this.id }).catch((err: unknown) => {
      this.log.debug({ lease: this.id, err: errorMessage(err) }, 'lease revoke failed; it will expire');
    });
  }

  private close(): void {
    this.closed = true;
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.stream?.end();
    this.stream = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      try {
        await this.runStream();
      } catch (err) {
        if (!this.failing) this.log.warn({ lease: this.id, err: errorMessage(err) }, 'lease keepalive failed; retrying until etcd answers');
        this.failing = true;
      }
      if (!this.closed) await delay(RETRY_MS);
    }
  }

  /**
   * One keepalive stream: resolves when it ends, stalls (no answer for a
   * third of the TTL after a request), or etcd says the lease is gone.
   */
  private async runStream(): Promise<void> {
    const stream = (await this.etcd.leaseClient.leaseKeepAlive()) as unknown as KeepAliveStream;
    if (this.closed) {
      stream.end();
      return;
    }
    this.stream = stream;
    const intervalMs = (this.ttlSeconds * 1000) / 3;
    await new Promise<void>((resolve, reject) => {
      let answered = true;
      let done = false;
      // One request is in flight at a time (the next is written only once this
      // one is answered), so the latest write time is the answer's request.
      let sentAt = performance.now();
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearInterval(timer);
        if (this.stream === stream) this.stream = undefined;
        stream.end();
        if (err) reject(err);
        else resolve();
      };
      const timer = setInterval(() => {
        if (this.closed) return finish();
        if (!answered) return finish(new Error(`no keepalive answer within ${Math.round(intervalMs)} ms`));
        answered = false;
        sentAt = performance.now();
        stream.write({ ID: this.id });
      }, intervalMs);
      stream.on('error', (err) => finish(err));
      stream.on('end', () => finish());
      stream.on('data', (res) => {
        if (done || this.closed) return;
        answered = true;
        if (Number(res.TTL) <= 0) {
          this.close();
          finish();
          this.log.warn({ lease: this.id }, 'etcd says the lease has expired');
          this.emit('expired');
          return;
        }
        this.renewed(performance.now() - sentAt);
      });
      answered = false;
      sentAt = performance.now();
      stream.write({ ID: this.id });
    });
  }

  private renewed(roundTripMs: number): void {
    if (this.failing) this.log.info({ lease: this.id }, 'lease keepalive works again');
    this.failing = false;
    this.silent = false;
    this.confirmedAt = performance.now();
    this.armSilence();
    this.emit('renewed', roundTripMs);
  }

  /**
   * Checks the clock (emitting `silent` now if 2/3 of the TTL have passed
   * unconfirmed, see checkSilence) and says whether the lease is silent.
   * A method, not a getter: callers rely on its effect.
   */
  checkAndReportSilence(): boolean {
    this.checkSilence();
    return this.silent;
  }

  /**
   * Emits `silent` now if 2/3 of the TTL have passed since the last
   * confirmation, even if the timer has not fired yet (a starved or paused
   * process runs its I/O callbacks and timers in no promised order).
   */
  checkSilence(): void {
    if (this.closed || this.silent || performance.now() - this.confirmedAt < this.silenceMs) return;
    this.silent = true;
    this.log.warn({ lease: this.id, ttl: this.ttlSeconds }, 'no lease renewal for 2/3 of the TTL: the lease may expire; holding still until etcd answers');
    this.emit('silent');
  }

  private get silenceMs(): number {
    return (this.ttlSeconds * 1000 * 2) / 3;
  }

  private armSilence(): void {
    if (this.silentTimer) clearTimeout(this.silentTimer);
    this.silentTimer = setTimeout(() => this.checkSilence(), this.silenceMs + 1);
    this.silentTimer.unref();
  }
}
