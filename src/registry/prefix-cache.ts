/**
 * A decoded, always-current copy of everything under one etcd prefix:
 * one range read, then a watch from the next revision. This is how engine and
 * agent follow the store without polling: they read once and then only hear
 * about changes (O(changes), not O(keys) per tick).
 *
 * If the watch breaks in a way etcd3 cannot resume (e.g. the revision was
 * compacted), the cache re-reads the prefix and reports a resync, so the
 * consumer reconciles against the full state.
 *
 * A value that does not decode is not an entry, but it is not forgotten
 * either: the key is listed by malformed(), so a consumer can tell "absent"
 * from "unreadable" (an agent keeps a unit whose assignment became garbage
 * running rather than stopping it), and it is logged as a warning once per
 * key and revision (re-reads do not repeat it; a storm of garbage is
 * summarised, not logged line by line).
 */
import type { Etcd3, Watcher, IKeyValue } from 'etcd3';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';

export interface Entry<T> {
  key: string;
  value: T;
  modRevision: number;
  createRevision: number;
  lease: string;
}

/** A key whose current value does not decode. */
export interface Malformed {
  key: string;
  modRevision: number;
  createRevision: number;
}

/**
 * `delete` also reports a key whose value stopped decoding (previous: the
 * last good value, if any) and the deletion of a malformed key (previous
 * undefined): either way the key's entry is now absent.
 */
export type Change<T> =
  | { type: 'put'; entry: Entry<T>; previous: Entry<T> | undefined }
  | { type: 'delete'; key: string; previous: Entry<T> | undefined }
  | { type: 'resync' };

/** At most this many malformed-value warnings per window; the rest are counted and summarised. */
const WARNINGS_PER_WINDOW = 10;
const WARNING_WINDOW_MS = 60_000;

export class PrefixCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private malformedKeys = new Map<string, Malformed>();
  private warningWindowStart = 0;
  private warningsInWindow = 0;
  private warningsSuppressed = 0;
  private watcher: Watcher | undefined;
  private closed = false;
  private listeners: Array<(change: Change<T>) => void> = [];
  /** Revision the cache reflects (highest seen). */
  revision = 0;

  constructor(
    private readonly etcd: Etcd3,
    readonly prefix: string,
    private readonly decode: (text: string, key: string) => T | undefined,
    private readonly log: Logger = silentLogger(),
    /** Keys under the prefix that are none of this cache's business (neither entries nor malformed). */
    private readonly only: (key: string) => boolean = () => true,
  ) {}

  onChange(listener: (change: Change<T>) => void): void {
    this.listeners.push(listener);
  }

  get(key: string): Entry<T> | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<Entry<T>> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keys present under the prefix whose values do not decode. */
  /** Whether `key` is here but its value does not decode. */
  isMalformed(key: string): boolean {
    return this.malformedKeys.has(key);
  }

  malformed(): IterableIterator<Malformed> {
    return this.malformedKeys.values();
  }

  async start(): Promise<void> {
    await this.load();
  }

  private async load(): Promise<void> {
    const res = await this.etcd.getAll().prefix(this.prefix).exec();
    this.entries.clear();
    const before = this.malformedKeys;
    this.malformedKeys = new Map();
    for (const kv of res.kvs) {
      if (!this.only(kv.key.toString())) continue;
      const e = this.toEntry(kv);
      if (e) this.entries.set(e.key, e);
      else this.noteMalformed(kv, before.get(kv.key.toString()));
    }
    this.revision = Number(res.header.revision);
    await this.watch(this.revision + 1);
  }

  private async watch(fromRevision: number): Promise<void> {
    if (this.closed) return;
    const w = await this.etcd.watch().prefix(this.prefix).startRevision(String(fromRevision)).create();
    if (this.closed) {
      void w.cancel();
      return;
    }
    this.watcher = w;
    w.on('put', (kv, prev) => this.onPut(kv, prev));
    w.on('delete', (kv) => this.onDelete(kv));
    w.on('error', (err) => {
      this.log.warn({ prefix: this.prefix, err: err.message }, 'watch failed; re-reading prefix');
      // The watch already failed: cancelling it is tidying, and the re-read below replaces it.
      void w.cancel().catch(() => undefined);
      if (this.watcher === w) this.watcher = undefined;
      void this.resync();
    });
  }

  /** Re-read the prefix now (a fresh snapshot at a revision after this call), then watch on. */
  async refresh(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    // A watch that cannot be cancelled is dead already; nothing more to release.
    if (w) await w.cancel().catch(() => undefined);
    await this.load();
    this.emit({ type: 'resync' });
  }

  private async resync(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.load();
        this.emit({ type: 'resync' });
        return;
      } catch (err) {
        this.log.warn({ prefix: this.prefix, err: (err as Error).message }, 'resync failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  private onPut(kv: IKeyValue, _prev?: IKeyValue): void {
    const rev = Number(kv.mod_revision);
    if (rev > this.revision) this.revision = rev;
    const key = kv.key.toString();
    if (!this.only(key)) return;
    const previous = this.entries.get(key);
    const entry = this.toEntry(kv);
    if (!entry) {
      // Garbage under our prefix is no entry; malformed() still names its key.
      this.entries.delete(key);
      this.noteMalformed(kv, this.malformedKeys.get(key));
      this.emit({ type: 'delete', key, previous });
      return;
    }
    this.malformedKeys.delete(key);
    this.entries.set(key, entry);
    this.emit({ type: 'put', entry, previous });
  }

  private onDelete(kv: IKeyValue): void {
    const rev = Number(kv.mod_revision);
    if (rev > this.revision) this.revision = rev;
    const key = kv.key.toString();
    const previous = this.entries.get(key);
    const wasMalformed = this.malformedKeys.delete(key);
    if (!previous && !wasMalformed) return;
    this.entries.delete(key);
    this.emit({ type: 'delete', key, previous });
  }

  private toEntry(kv: IKeyValue): Entry<T> | undefined {
    const key = kv.key.toString();
    const value = this.decode(kv.value.toString(), key);
    if (value === undefined) return undefined;
    return {
      key,
      value,
      modRevision: Number(kv.mod_revision),
      createRevision: Number(kv.create_revision),
      lease: String(kv.lease),
    };
  }

  /** Remember a malformed key; warn unless this key's revision was already reported. */
  private noteMalformed(kv: IKeyValue, known: Malformed | undefined): void {
    const m: Malformed = { key: kv.key.toString(), modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision) };
    this.malformedKeys.set(m.key, m);
    if (known?.modRevision === m.modRevision) return;
    const now = Date.now();
    if (now - this.warningWindowStart >= WARNING_WINDOW_MS) {
      if (this.warningsSuppressed > 0) {
        this.log.warn({ prefix: this.prefix, count: this.warningsSuppressed }, 'more values that do not decode were ignored (not logged one by one)');
      }
      this.warningWindowStart = now;
      this.warningsInWindow = 0;
      this.warningsSuppressed = 0;
    }
    if (this.warningsInWindow >= WARNINGS_PER_WINDOW) {
      if (this.warningsSuppressed++ === 0) {
        this.log.warn({ prefix: this.prefix }, `many values that do not decode: the next ones within ${WARNING_WINDOW_MS / 1000} s are counted, not logged`);
      }
      return;
    }
    this.warningsInWindow++;
    this.log.warn(
      { key: m.key, modRevision: m.modRevision },
      'ignoring a value that does not decode (malformed, out of bounds, or naming something other than its key)',
    );
  }

  private emit(change: Change<T>): void {
    for (const l of this.listeners) l(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    // A watch that cannot be cancelled is dead already; nothing more to release.
    if (w) await w.cancel().catch(() => undefined);
  }
}
