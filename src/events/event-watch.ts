/**
 * Cluster events from an etcd revision on: the store's own history is the
 * event log, so a client that resumes with the last index it saw misses
 * nothing etcd still holds, and nothing is buffered here.
 *
 * Opening reads the assignments and the election candidates at the start
 * revision (for moves and leadership, tracker.ts), then watches the whole
 * cluster prefix from the next revision, one watch so that changes arrive in
 * revision order. An index etcd has compacted away cannot be resumed from:
 * that is an explicit ResyncRequired (like etcd's own compacted error),
 * never a stream that silently skips what was lost.
 */
import { EventEmitter } from 'node:events';
import type { StopWatch } from '../registry/client-store.js';
import { CompactedError, FutureRevisionError, type HistoryStore, type KeyAt, type KeyChange } from '../registry/history-store.js';
import type { Keys } from '../registry/keys.js';
import { FlotillaError } from '../util/errors.js';
import type { FlotillaEvent } from './derive.js';
import { EventTracker, type SeedKey, type TrackedChange } from './tracker.js';

/** The index asked for is not in etcd's history (compacted, or not written yet). */
export class ResyncRequired extends FlotillaError {
  constructor(
    readonly index: number,
    /** The store's revision now: read the state afresh, then resume from here. */
    readonly current: number,
    why: 'compacted' | 'ahead',
  ) {
    super(
      why === 'compacted'
        ? `index ${index} has been compacted away by etcd: events after it are lost; read the current state and resume from index ${current}`
        : `index ${index} is ahead of the store (at ${current}): it is from another cluster or a store restored from backup; read the current state and resume from index ${current}`,
    );
  }
}

/** One revision's events. */
export interface EventBatch {
  index: number;
  events: FlotillaEvent[];
}

export interface EventWatchEvents {
  batch: [batch: EventBatch];
  /** The watch cannot go on without a gap (compaction overtook it); it is closed. */
  resync: [err: ResyncRequired];
  /** Any other failure of the watch; it is closed. */
  error: [err: Error];
}

export interface EventWatchOptions {
  /** Events after this index; absent or 0: from now on. */
  afterIndex?: number;
}

export class EventWatch extends EventEmitter<EventWatchEvents> {
  private stopWatch: StopWatch | undefined;
  private closed = false;
  /** Highest revision delivered (or the start): where a resume picks up. */
  lastIndex: number;

  private constructor(
    private readonly store: HistoryStore,
    private readonly tracker: EventTracker,
    /** Events are those after this revision. */
    readonly startIndex: number,
  ) {
    super();
    this.lastIndex = startIndex;
  }

  /** Throws ResyncRequired if `afterIndex` is no longer (or not yet) in etcd's history. */
  static async open(store: HistoryStore, opts: EventWatchOptions = {}): Promise<EventWatch> {
    const keys: Keys = store.keys;
    const now = await store.readAt(keys.electionPrefix);
    const current = now.revision;
    const asked = opts.afterIndex ?? 0;
    const start = asked === 0 ? current : asked;
    if (start > current) throw new ResyncRequired(start, current, 'ahead');
    let candidates = now.kvs;
    let assignments: string[];
    try {
      if (start < current) candidates = (await store.readAt(keys.electionPrefix, start)).kvs;
      // Where units are placed is all the tracker needs of them: the keys say it.
      assignments = await store.keysAt(keys.assignmentsPrefix, start);
    } catch (err) {
      if (err instanceof CompactedError) throw new ResyncRequired(start, current, 'compacted');
      throw err;
    }
    const tracker = new EventTracker(keys);
    tracker.seed(assignments.map((key) => ({ key, value: '', createRevision: 0 })), candidates.map(seedKey));
    const w = new EventWatch(store, tracker, start);
    try {
      w.stopWatch = await store.watchFrom(keys.prefix, start + 1, {
        revision: (revision, changes) => w.deliver(revision, changes.map(tracked)),
        failed: (err) => void w.failed(err),
      });
    } catch (err) {
      await w.close();
      // Compacted between the read above and the watch: the same answer.
      if (err instanceof CompactedError) throw new ResyncRequired(start, current, 'compacted');
      throw err;
    }
    return w;
  }

  private deliver(revision: number, changes: TrackedChange[]): void {
    if (this.closed || revision <= this.lastIndex) return;
    const events = this.tracker.applyRevision(revision, changes);
    this.lastIndex = revision;
    if (events.length > 0) this.emit('batch', { index: revision, events });
  }

  private async failed(err: Error): Promise<void> {
    if (this.closed) return;
    await this.close();
    if (err instanceof CompactedError || err instanceof FutureRevisionError) {
      const head = await this.store.currentRevision().catch(() => this.lastIndex);
      this.emit('resync', new ResyncRequired(this.lastIndex, head, err instanceof CompactedError ? 'compacted' : 'ahead'));
      return;
    }
    this.emit('error', err);
  }

  async close(): Promise<void> {
    this.closed = true;
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.();
  }
}

function tracked(c: KeyChange): TrackedChange {
  return { revision: c.revision, key: c.key, value: c.value, previous: c.previous, createRevision: c.createRevision };
}

function seedKey(kv: KeyAt): SeedKey {
  return { key: kv.key, value: kv.value, createRevision: kv.createRevision };
}
