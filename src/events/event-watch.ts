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
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Keys } from '../registry/keys.js';
import { FlotillaError, errorMessage } from '../util/errors.js';
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

const COMPACTED = /compacted/i;
const FUTURE = /future revision/i;

export class EventWatch extends EventEmitter<EventWatchEvents> {
  private watcher: Watcher | undefined;
  private closed = false;
  /** Highest revision delivered (or the start): where a resume picks up. */
  lastIndex: number;

  private constructor(
    private readonly etcd: Etcd3,
    private readonly keys: Keys,
    private readonly tracker: EventTracker,
    /** Events are those after this revision. */
    readonly startIndex: number,
  ) {
    super();
    this.lastIndex = startIndex;
  }

  /** Throws ResyncRequired if `afterIndex` is no longer (or not yet) in etcd's history. */
  static async open(etcd: Etcd3, keys: Keys, opts: EventWatchOptions = {}): Promise<EventWatch> {
    const now = await etcd.getAll().prefix(keys.electionPrefix).exec();
    const current = Number(now.header.revision);
    const asked = opts.afterIndex ?? 0;
    const start = asked === 0 ? current : asked;
    if (start > current) throw new ResyncRequired(start, current, 'ahead');
    let candidates = now.kvs;
    let assignments: string[];
    try {
      if (start < current) candidates = (await etcd.getAll().prefix(keys.electionPrefix).revision(start).exec()).kvs;
      // Where units are placed is all the tracker needs of them: the keys say it.
      assignments = await etcd.getAll().prefix(keys.assignmentsPrefix).revision(start).keys();
    } catch (err) {
      if (COMPACTED.test(errorMessage(err))) throw new ResyncRequired(start, current, 'compacted');
      throw err;
    }
    const tracker = new EventTracker(keys);
    tracker.seed(assignments.map((key) => ({ key, value: '', createRevision: 0 })), candidates.map(seedKey));
    const w = new EventWatch(etcd, keys, tracker, start);
    try {
      await w.watch();
    } catch (err) {
      await w.close();
      // Compacted between the read above and the watch: the same answer.
      if (COMPACTED.test(errorMessage(err))) throw new ResyncRequired(start, current, 'compacted');
      throw err;
    }
    return w;
  }

  /**
   * Handlers go on before the watcher connects (watcher(), not create()): a
   * resumed watch gets its backlog right behind the created answer, possibly
   * in the same tick, and a handler attached after create() resolved could
   * miss the first of it.
   */
  private async watch(): Promise<void> {
    const w = this.etcd.watch().prefix(this.keys.prefix).startRevision(String(this.startIndex + 1)).withPreviousKV().watcher();
    this.watcher = w;
    w.on('data', (res) => {
      // One response may span several revisions; a revision never spans responses.
      let revision = 0;
      let changes: TrackedChange[] = [];
      const flush = (): void => {
        if (changes.length > 0) this.deliver(revision, changes);
        changes = [];
      };
      for (const e of res.events) {
        const rev = Number(e.kv.mod_revision);
        if (rev !== revision) {
          flush();
          revision = rev;
        }
        const put = e.type === 'Put';
        changes.push({
          revision: rev,
          key: e.kv.key.toString(),
          value: put ? e.kv.value.toString() : undefined,
          previous: e.prev_kv ? e.prev_kv.value.toString() : undefined,
          createRevision: put ? Number(e.kv.create_revision) : 0,
        });
      }
      flush();
    });
    let connected = false;
    await new Promise<void>((resolve, reject) => {
      w.once('connected', () => {
        connected = true;
        resolve();
      });
      w.on('error', (err) => {
        if (!connected) return reject(err);
        void this.failed(err);
      });
    });
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
    if (COMPACTED.test(err.message) || FUTURE.test(err.message)) {
      const head = await this.currentRevision().catch(() => this.lastIndex);
      this.emit('resync', new ResyncRequired(this.lastIndex, head, COMPACTED.test(err.message) ? 'compacted' : 'ahead'));
      return;
    }
    this.emit('error', err);
  }

  private async currentRevision(): Promise<number> {
    const h = await this.etcd.getAll().prefix(this.keys.electionPrefix).exec();
    return Number(h.header.revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await w.cancel().catch(() => undefined);
  }
}

function seedKey(kv: IKeyValue): SeedKey {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: Number(kv.create_revision) };
}
