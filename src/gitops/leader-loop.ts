/**
 * Runs the gitops duty (engine-duty.ts: pull sources, rollouts) while this
 * flotillad's engine leads, and only then: a new duty per leadership, woken
 * at the time each pass asks for, stopped on losing the lead. Every write
 * the duty makes carries the fence of the leadership it was started for,
 * so a deposed leader whose pass is still in flight changes nothing.
 *
 * A source defined or a rollout started (flotctl source add, flotctl sync)
 * wakes the duty at once: the leader watches those two prefixes, rather
 * than letting a new rollout wait out the duty's idle interval. While a
 * rollout waits on replaced units, the leader also watches unit states and
 * wakes the duty when one of those units reports: the health gate then
 * starts counting when the unit turns healthy, not at the next poll. That
 * watch exists only while units are in flight (it sees every state write).
 */
import { when } from '../registry/txn.js';
import type { Registry } from '../registry/registry.js';
import type { StopWatch } from '../registry/client-store.js';
import type { Keys } from '../registry/keys.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { timerDelay } from '../util/timers.js';
import { type GitopsDuty, type GitopsDutyConfig, gitopsDuty } from './engine-duty.js';

/** The engine's fence as the leader loop needs it (src/engine/fence.ts). */
export interface LeaderFence {
  readonly candidateKey: string;
  readonly revision: number;
}

export type LeaderDutySettings = Omit<GitopsDutyConfig, 'fence' | 'log' | 'registry'>;

interface Leadership {
  fence: LeaderFence;
  duty: GitopsDuty;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
  watchers: StopWatch[];
  /** Units the duty's rollouts wait on, from its last pass. */
  inflight: ReadonlySet<string>;
  /** The unit-states watch, while `inflight` is not empty (a promise while being created). */
  states?: Promise<StopWatch | undefined>;
}

export class GitopsLeader {
  private readonly keys: Keys;

  private current: Leadership | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly settings: LeaderDutySettings,
    private readonly log: Logger,
  ) {
    this.keys = registry.keys;
  }

  lead(fence: LeaderFence): void {
    void this.stepDown();
    const conditions = [when.createdAt(fence.candidateKey, fence.revision)];
    const duty = gitopsDuty({ ...this.settings, registry: this.registry, fence: () => conditions, log: this.log });
    const current: Leadership = { fence, duty, running: false, again: false, watchers: [], inflight: new Set() };
    this.current = current;
    for (const prefix of [this.keys.sourcesPrefix, this.keys.rolloutsPrefix]) {
      // A gap (reconnect) may have hidden a change: a pass re-reads everything anyway.
      this.registry
        .watchPrefix(prefix, { changed: () => this.kick(), gap: () => this.kick() })
        .then((stop) => {
          // Led no longer: the watch is not wanted; one that cannot be stopped dies with the connection.
          if (this.current !== current) return void stop().catch(() => undefined);
          current.watchers.push(stop);
        })
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'cannot watch sources and rollouts; passes run on their timer only'));
    }
    this.pass();
  }

  /** Run a pass now (or right after the one running). */
  kick(): void {
    const c = this.current;
    if (!c) return;
    if (c.running) {
      c.again = true;
      return;
    }
    if (c.timer) clearTimeout(c.timer);
    this.pass();
  }

  /** Stop calling the duty; resolves when a pull pass in flight has ended (its writes are fenced either way). */
  async stepDown(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    if (c.timer) clearTimeout(c.timer);
    // A watch that cannot be cancelled (etcd down) dies with the connection; nothing acts on its events any more.
    await Promise.all([...c.watchers.map((stop) => stop().catch(() => undefined)), this.unwatchStates(c)]);
    await c.duty.settled();
  }

  private pass(): void {
    const c = this.current;
    if (!c || c.running) return;
    c.running = true;
    c.duty
      .run(Date.now())
      .then(
        ({ nextWakeAt, inflight }) => {
          c.inflight = new Set(inflight);
          return nextWakeAt;
        },
        (err: unknown) => {
          // run() reports its own pass failures; this is a bug in it, not etcd: try again soon.
          this.log.warn({ err: errorMessage(err) }, 'gitops duty failed; retrying in 5 s');
          return Date.now() + 5000;
        },
      )
      .then((at) => {
        c.running = false;
        if (this.current !== c) return;
        if (c.inflight.size > 0) this.watchStates(c);
        else void this.unwatchStates(c);
        if (c.again) {
          c.again = false;
          return this.pass();
        }
        c.timer = setTimeout(() => this.pass(), timerDelay(at - Date.now()));
        c.timer.unref();
      });
  }

  /** Wake the duty when a unit in flight reports a state (see the header). */
  private watchStates(c: Leadership): void {
    if (c.states) return;
    const wake = (key: string): void => {
      const unit = this.keys.stateOfKey(key)?.unit;
      if (this.current === c && unit !== undefined && c.inflight.has(unit)) this.kick();
    };
    c.states = this.registry
      .watchPrefix(this.keys.statesPrefix, { changed: wake, gap: () => this.kick() })
      .catch((err: unknown) => {
        // Rollouts still advance on the duty's poll.
        this.log.warn({ err: errorMessage(err) }, 'cannot watch unit states; rollouts advance on their poll only');
        return undefined;
      });
  }

  private async unwatchStates(c: Leadership): Promise<void> {
    const pending = c.states;
    c.states = undefined;
    const stop = await pending;
    // Nothing acts on its events any more; one that cannot be stopped (etcd down) dies with the connection.
    await stop?.().catch(() => undefined);
  }
}
