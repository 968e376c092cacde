/**
 * EventWatch's decisions over a scripted history store (pure: no etcd; the
 * store itself is tested against a real etcd in test/registry/history-store):
 * where it starts, what it reads at the start revision, that a revision is
 * delivered once, and how a watch etcd ended turns into resync or error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventWatch, ResyncRequired, type EventBatch } from '../../src/events/event-watch.js';
import { CompactedError, FutureRevisionError, type HistoryHandlers, type HistoryStore, type KeyChange, type PrefixAt } from '../../src/registry/history-store.js';
import { Keys } from '../../src/registry/keys.js';
import { waitFor } from '../../src/util/deadline.js';

const keys = new Keys();
const H = 'b'.repeat(40);
const unit = (name: string): string => JSON.stringify({ name, hash: H, desired: 'launched' });

class ScriptedHistory implements HistoryStore {
  readonly keys = keys;
  readonly reads: Array<[string, number | undefined]> = [];
  handlers: HistoryHandlers | undefined;
  watchedFrom = 0;
  stopped = 0;
  compactedBelow = 0;

  constructor(public head: number) {}

  currentRevision(): Promise<number> {
    return Promise.resolve(this.head);
  }
  readAt(prefix: string, revision?: number): Promise<PrefixAt> {
    this.reads.push([prefix, revision]);
    if (revision !== undefined && revision < this.compactedBelow) return Promise.reject(new CompactedError(revision, 'scripted'));
    return Promise.resolve({ revision: this.head, kvs: [] });
  }
  keysAt(prefix: string, revision: number): Promise<string[]> {
    this.reads.push([prefix, revision]);
    if (revision < this.compactedBelow) return Promise.reject(new CompactedError(revision, 'scripted'));
    return Promise.resolve([]);
  }
  watchFrom(_prefix: string, fromRevision: number, handlers: HistoryHandlers): Promise<() => Promise<void>> {
    this.watchedFrom = fromRevision;
    this.handlers = handlers;
    return Promise.resolve(async () => void this.stopped++);
  }
}

const submitted = (revision: number, name: string): KeyChange => ({ type: 'put', key: keys.unit(name), revision, value: unit(name), previous: undefined, createRevision: revision });

test('event watch: from now, the reads at the start, batches once per revision, never one already delivered', async () => {
  const store = new ScriptedHistory(10);
  const w = await EventWatch.open(store);
  assert.equal(w.startIndex, 10);
  assert.equal(store.watchedFrom, 11);
  assert.deepEqual(store.reads, [[keys.electionPrefix, undefined], [keys.assignmentsPrefix, 10]]);
  const batches: EventBatch[] = [];
  w.on('batch', (b) => batches.push(b));
  store.handlers?.revision(11, [submitted(11, 'a.service')]);
  store.handlers?.revision(11, [submitted(11, 'a.service')]);
  store.handlers?.revision(12, [submitted(12, 'b.service')]);
  assert.deepEqual(batches.map((b) => [b.index, b.events.map((e) => `${e.type} ${e.unit ?? ''}`)]), [[11, ['UnitSubmitted a.service']], [12, ['UnitSubmitted b.service']]]);
  assert.equal(w.lastIndex, 12);
  await w.close();
  assert.equal(store.stopped, 1);
  store.handlers?.revision(13, [submitted(13, 'c.service')]);
  assert.equal(batches.length, 2, 'nothing after close');
});

test('event watch: resuming reads the candidates at the asked index; compacted or ahead is ResyncRequired before any watch', async () => {
  const store = new ScriptedHistory(20);
  await (await EventWatch.open(store, { afterIndex: 15 })).close();
  assert.deepEqual(store.reads, [[keys.electionPrefix, undefined], [keys.electionPrefix, 15], [keys.assignmentsPrefix, 15]]);
  assert.equal(store.watchedFrom, 16);
  const old = new ScriptedHistory(20);
  old.compactedBelow = 18;
  await assert.rejects(EventWatch.open(old, { afterIndex: 15 }), (err: unknown) => err instanceof ResyncRequired && err.index === 15 && err.current === 20 && /compacted/.test(err.message));
  await assert.rejects(EventWatch.open(new ScriptedHistory(20), { afterIndex: 25 }), (err: unknown) => err instanceof ResyncRequired && err.current === 20 && /ahead of the store/.test(err.message));
  assert.equal(old.watchedFrom, 0, 'no watch opened');
});

test('event watch: a watch etcd ended is resync from the last index (compacted, ahead) or error (anything else), and closed', async () => {
  for (const [why, want] of [
    [new CompactedError(13, 'scripted'), 'resync compacted'],
    [new FutureRevisionError(13, 'scripted'), 'resync ahead'],
    [new Error('permission denied'), 'error permission denied'],
  ] as const) {
    const store = new ScriptedHistory(10);
    const w = await EventWatch.open(store);
    const seen: string[] = [];
    let resync: ResyncRequired | undefined;
    w.on('resync', (err) => {
      resync = err;
      seen.push(`resync ${/compacted/.test(err.message) ? 'compacted' : 'ahead'}`);
    });
    w.on('error', (err) => seen.push(`error ${err.message}`));
    store.handlers?.revision(12, [submitted(12, 'a.service')]);
    store.head = 30;
    store.handlers?.failed(why);
    await waitFor('the watch reported its end', () => (seen.length > 0 ? true : undefined), { timeoutMs: 2000, intervalMs: 1 });
    assert.deepEqual(seen, [want]);
    if (resync) {
      assert.equal(resync.index, 12, 'from the last index delivered');
      assert.equal(resync.current, 30);
    }
    assert.equal(store.stopped, 1, 'closed');
  }
});
