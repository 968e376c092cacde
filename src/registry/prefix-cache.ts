/**
 * A decoded, always-current copy of everything under one etcd prefix:
 * one range read, then a watch from the next revision. This is how engine and
 * agent follow the store without polling: they read once and then only hear
 * about changes (O(changes), not O(keys) per tick).
 *
 * If the watch breaks in a way etcd3 cannot resume (e.g. the revision was
 * compacted), the cache re-reads the prefix and reports a resync, so the
 * consumer reconciles against the full state.
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

export type Change<T> =
  | { type: 'put'; entry: Entry<T>; previous: Entry<T> | undefined }
  | { type: 'delete'; key: string; previous: Entry<T> | undefined }
  | { type: 'resync' };

export class PrefixCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
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

  async start(): Promise<void> {
    await this.load();
  }

  private async load(): Promise<void> {
    const res = await this.etcd.getAll().prefix(this.prefix).exec();
    this.entries.clear();
    for (const kv of res.kvs) {
      const e = this.toEntry(kv);
      if (e) this.entries.set(e.key, e);
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
      void w.cancel().catch(() => undefined);
      if (this.watcher === w) this.watcher = undefined;
      void this.resync();
    });
  }

  /** Re-read the prefix now (a fresh snapshot at a revision after this call), then watch on. */
  async refresh(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
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
    const previous = this.entries.get(key);
    const entry = this.toEntry(kv);
    if (!entry) {
      // Garbage under our prefix counts as absent.
      if (previous) {
        this.entries.delete(key);
        this.emit({ type: 'delete', key, previous });
      }
      return;
    }
    this.entries.set(key, entry);
    this.emit({ type: 'put', entry, previous });
  }

  private onDelete(kv: IKeyValue): void {
    const rev = Number(kv.mod_revision);
    if (rev > this.revision) this.revision = rev;
    const key = kv.key.toString();
    const previous = this.entries.get(key);
    if (!previous) return;
    this.entries.delete(key);
    this.emit({ type: 'delete', key, previous });
  }

  private toEntry(kv: IKeyValue): Entry<T> | undefined {
    const key = kv.key.toString();
    const value = this.decode(kv.value.toString(), key);
    if (value === undefined) {
      this.log.debug({ key }, 'ignoring undecodable value');
      return undefined;
    }
    return {
      key,
      value,
      modRevision: Number(kv.mod_revision),
      createRevision: Number(kv.create_revision),
      lease: String(kv.lease),
    };
  }

  private emit(change: Change<T>): void {
    for (const l of this.listeners) l(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await w.cancel().catch(() => undefined);
  }
}
