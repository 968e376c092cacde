/**
 * The store's history, for whoever follows it as a log (the event stream):
 * what keys held at a revision, and every change after a revision, grouped
 * by revision. Consumers see typed changes and typed errors, never etcd3.
 *
 * A revision etcd has compacted away is a CompactedError, a revision the
 * store has not reached (another cluster, a store restored from backup) a
 * FutureRevisionError: both mean "the history you ask for is not here", and
 * the consumer decides how to resynchronise. etcd reports both only as
 * message text, so the one place that reads that text is here.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { FlotillaError, errorMessage } from '../util/errors.js';
import type { StopWatch } from './client-store.js';
import type { Keys } from './keys.js';
import type { Registry } from './registry.js';

/** The revision asked for has been compacted away: changes up to `current` or so are lost to history. */
export class CompactedError extends FlotillaError {
  constructor(
    readonly revision: number,
    detail: string,
  ) {
    super(`revision ${revision} is compacted away by etcd (${detail})`);
  }
}

/** The revision asked for is ahead of the store. */
export class FutureRevisionError extends FlotillaError {
  constructor(
    readonly revision: number,
    detail: string,
  ) {
    super(`revision ${revision} is ahead of the store (${detail})`);
  }
}

/** One key as it was at a revision. */
export interface KeyAt {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface PrefixAt {
  /** The store's revision when it answered (not the revision read at). */
  revision: number;
  kvs: KeyAt[];
}

/** One change to one key. */
export interface KeyChange {
  type: 'put' | 'delete';
  key: string;
  revision: number;
  /** The value written; undefined for a delete. */
  value: string | undefined;
  /** The value before this change; undefined if the key did not exist. */
  previous: string | undefined;
  /** The key's create revision; 0 for a delete. */
  createRevision: number;
}

export interface HistoryHandlers {
  /** Every change of one revision, in the order written; revisions only grow. */
  revision(revision: number, changes: KeyChange[]): void;
  /**
   * The watch ended (CompactedError, FutureRevisionError, or another Error)
   * and delivers nothing more. Not called after stop().
   */
  failed(err: Error): void;
}

export interface HistoryStore {
  readonly keys: Keys;
  /** The store's revision now. */
  currentRevision(): Promise<number>;
  /** Keys and values under `prefix`, at `revision` (absent: now). Rejects with CompactedError. */
  readAt(prefix: string, revision?: number): Promise<PrefixAt>;
  /** The keys alone under `prefix` at `revision`. Rejects with CompactedError. */
  keysAt(prefix: string, revision: number): Promise<string[]>;
  /**
   * Every change under `prefix` from `fromRevision` on, one call per
   * revision. Resolves once the watch is live. History that is not there
   * comes as CompactedError (or FutureRevisionError) either way etcd tells
   * it: a rejection, or (etcd's usual answer: the watch is created, then
   * cancelled) failed() right after this resolved. Read at the revision
   * first (readAt) to learn it before watching.
   */
  watchFrom(prefix: string, fromRevision: number, handlers: HistoryHandlers): Promise<StopWatch>;
}

/** etcd's refusals of a revision, as the typed errors; other errors unchanged. */
export function historyError(err: unknown, revision: number): unknown {
  const text = errorMessage(err);
  if (/compacted/i.test(text)) return new CompactedError(revision, text);
  if (/future revision/i.test(text)) return new FutureRevisionError(revision, text);
  return err;
}

function keyAt(kv: IKeyValue): KeyAt {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision) };
}

/** The history of the store a registry is connected to. */
export function historyStoreOver(registry: Registry): HistoryStore {
  return new EtcdHistoryStore(registry.etcd, registry.keys);
}

class EtcdHistoryStore implements HistoryStore {
  constructor(
    private readonly etcd: Etcd3,
    readonly keys: Keys,
  ) {}

  async currentRevision(): Promise<number> {
    // One key inside the cluster's prefix: a user allowed only that prefix may read it.
    const res = await this.etcd.get(this.keys.prefix).exec();
    return Number(res.header.revision);
  }

  async readAt(prefix: string, revision?: number): Promise<PrefixAt> {
    const q = this.etcd.getAll().prefix(prefix);
    if (revision !== undefined) q.revision(String(revision));
    try {
      const res = await q.exec();
      return { revision: Number(res.header.revision), kvs: res.kvs.map(keyAt) };
    } catch (err) {
      throw historyError(err, revision ?? 0);
    }
  }

  async keysAt(prefix: string, revision: number): Promise<string[]> {
    try {
      return await this.etcd.getAll().prefix(prefix).revision(String(revision)).keys();
    } catch (err) {
      throw historyError(err, revision);
    }
  }

  /**
   * Handlers go on before the watcher connects (watcher(), not create()): a
   * watch from an old revision gets its backlog right behind the created
   * answer, possibly in the same tick, and a handler attached after create()
   * resolved could miss the first of it.
   */
  async watchFrom(prefix: string, fromRevision: number, handlers: HistoryHandlers): Promise<StopWatch> {
    const w: Watcher = this.etcd.watch().prefix(prefix).startRevision(String(fromRevision)).withPreviousKV().watcher();
    /** No more deliveries: the caller stopped the watch, or etcd ended it. */
    let stopped = false;
    /** The caller stopped it: not even failed() is called any more. */
    let cancelled = false;
    /** etcd cancelled it: etcd3 forgot it, and a cancel() of it would wait for an answer that never comes. */
    let endedByEtcd = false;
    const stop = async (): Promise<void> => {
      stopped = true;
      if (endedByEtcd) return;
      // A failed cancel leaves a watch whose events are ignored now; stopping is done either way.
      await w.cancel().catch(() => undefined);
    };
    // The first revision not delivered yet: where the watch stood if etcd cancels it.
    let next = fromRevision;
    w.on('data', (res) => {
      if (stopped) return;
      // One response may span several revisions; a revision never spans responses.
      let revision = 0;
      let changes: KeyChange[] = [];
      const flush = (): void => {
        if (changes.length > 0 && !stopped) handlers.revision(revision, changes);
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
          type: put ? 'put' : 'delete',
          key: e.kv.key.toString(),
          revision: rev,
          value: put ? e.kv.value.toString() : undefined,
          previous: e.prev_kv ? e.prev_kv.value.toString() : undefined,
          createRevision: put ? Number(e.kv.create_revision) : 0,
        });
      }
      flush();
      if (revision > 0) next = revision + 1;
    });
    let connected = false;
    try {
      await new Promise<void>((resolve, reject) => {
        w.once('connected', () => {
          connected = true;
          resolve();
        });
        // A watcher emits 'error' only when etcd cancelled it (compaction overtook it, a permission, ...).
        w.on('error', (err) => {
          endedByEtcd = true;
          if (!connected) return reject(err);
          if (stopped) return;
          stopped = true;
          void this.whyCancelled(err, next).then((why) => {
            if (!cancelled) handlers.failed(why);
          });
        });
      });
    } catch (err) {
      await stop();
      throw historyError(err, fromRevision);
    }
    return async () => {
      cancelled = true;
      await stop();
    };
  }

  /**
   * etcd cancels a watch whose revision was compacted with no reason text
   * (the compact revision is in a field etcd3 drops), so where the text
   * does not say it, the store is asked: a read at the watch's next
   * revision fails as compacted exactly when the watch would.
   */
  private async whyCancelled(err: Error, next: number): Promise<Error> {
    const typed = historyError(err, next);
    if (typed !== err) return typed as Error;
    try {
      const current = await this.currentRevision();
      if (next > current + 1) return new FutureRevisionError(next, `the store is at ${current}`);
      if (next <= current) await this.etcd.get(this.keys.prefix).revision(String(next)).exec();
    } catch (probe) {
      const why = historyError(probe, next);
      if (why instanceof CompactedError) return why;
    }
    return err;
  }
}
