/**
 * A deposed engine on a real cluster (issue 4, required behaviour 4): the
 * engine's flotillad is frozen (SIGSTOP) the moment its offer for a batch of
 * units appears in etcd, so its round is left half done. It stays frozen past
 * its lease TTL, another engine takes over and places the batch, then it is
 * thawed (SIGCONT) and carries on with its stale round. Its write must be
 * rejected by the revision condition (the fencing token), and nothing it
 * computed may reach etcd or the hosts.
 *
 * The news of its deposal is held back while it thaws: its etcd traffic is
 * blackholed (a pausable proxy) from just after it is frozen (once its offer
 * is answered, long before its lease can expire) until its stale decision
 * has been sent. Without that, a thawed engine reads the deletion of
 * its election key before its round timer fires, steps down and writes
 * nothing at all: safe, but it would leave the fence itself untested. Held
 * back, its write is truly in flight when it is deposed, as a write from a
 * slow or cut-off engine would be.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IKeyValue, Watcher } from 'etcd3';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { connectStore } from '../../src/registry/store.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';
import { PinWatch } from '../support/pin-watch.js';

const TTL = 3;
const UNITS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((u) => `${u}.service`);

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;
let keys: Keys;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-deposed-'), hosts: 3, ttlSeconds: TTL, etcdProxy: true });
  env = cluster.flotctlEnv();
  keys = new Keys(cluster.prefix);
  work = await mkdtemp('/tmp/fl-units-');
  // A Condition line makes it content hosts check: it is placed through an offer/bid round (content
  // with nothing to check is placed directly, without the round this test freezes the engine in).
  for (const u of UNITS) await writeFile(join(work, u), '[Unit]\nConditionPathExists=/etc\n[Service]\nExecStart=/bin/sleep infinity\n');
});

after(async () => {
  await cluster?.down();
});

interface StoreEvent { type: 'put' | 'delete'; key: string; revision: number }

/** `event=fenced-write-rejected` lines of a host's flotillad log, with the fence revision each held. */
async function rejectedWrites(logPath: string): Promise<Array<{ revision: number; line: string }>> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.includes('event=fenced-write-rejected'))
    .map((line) => ({ revision: Number(/ revision=(\d+)/.exec(line)?.[1] ?? 0), line }));
}

/** Lines of a host's flotillad log that contain `needle`. */
async function logLines(logPath: string, needle: string): Promise<string[]> {
  const text = await readFile(logPath, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes(needle));
}

test('a deposed engine thawed mid-round: its in-flight write is fenced off and changes nothing', async () => {
  const store = connectStore({ endpoints: cluster.endpoints });
  let engine = -1;
  let pid = 0;
  let frozen = false;
  let watch: PinWatch | undefined;
  let offers: Watcher | undefined;
  let history: Watcher | undefined;
  try {
    engine = await waitFor('an engine', () => cluster.engineHost(), { timeoutMs: 10_000 });
    const candidates = await store.getAll().prefix(keys.electionPrefix).exec();
    const mine = candidates.kvs.filter((kv) => kv.value.toString() === cluster.hosts[engine]?.machineId);
    const oldRevision = Math.min(...mine.map((kv) => Number(kv.create_revision)));
    assert.ok(Number.isFinite(oldRevision), 'the engine has no candidate key');
    pid = await cluster.flotilladPid(engine);
    assert.ok(pid > 0);
    const logPath = cluster.hosts[engine]?.logPath ?? '';
    assert.deepEqual(await rejectedWrites(logPath), [], 'a write was rejected before the test began');

    // Freeze the engine the moment its offer lands: its round is open, no bid counted yet.
    offers = await store.watch().prefix(keys.offersPrefix).create();
    let offerRound = '';
    const offered = new Promise<void>((resolve) => {
      offers?.on('put', (kv: IKeyValue) => {
        if (frozen) return;
        process.kill(pid, 'SIGSTOP');
        frozen = true;
        offerRound = kv.key.toString().slice(keys.offersPrefix.length);
        resolve();
      });
    });
    const start = await flotctl(env, ['start', '--no-block', ...UNITS], { cwd: work });
    assert.equal(start.code, 0, start.stderr);
    await offered;
    await offers.cancel();
    offers = undefined;
    // Cut it off once another host has bid, not at the offer itself: etcd answers the offer's txn as
    // it commits, but that answer may still sit in the proxy when the offer's watch event reaches
    // this process, and a blackhole from then on holds it back, leaving the thawed engine waiting on
    // its own write instead of resolving the round. A bid is written after the bidder saw the offer,
    // so by then the answer has passed the proxy into the frozen engine's socket, while its lease
    // (renewed every TTL/3) is still seconds from expiring.
    const otherIds = new Set(cluster.hosts.filter((_, i) => i !== engine).map((h) => h.machineId));
    await waitFor('another host to bid in the frozen round', async () => {
      const bids = await store.getAll().prefix(keys.roundBidsPrefix(offerRound)).keys();
      return bids.some((k) => otherIds.has(k.slice(keys.roundBidsPrefix(offerRound).length))) ? true : undefined;
    }, { timeoutMs: TTL * 1000, intervalMs: 5 });
    cluster.partition(engine, 'blackhole');
    const frozenAt = Date.now();
    assert.ok(offerRound.startsWith(String(oldRevision).padStart(12, '0')), `offer ${offerRound} is not the frozen engine's (revision ${oldRevision})`);

    // Its lease expires, another engine leads and places the whole batch on the other hosts.
    const others = cluster.hosts.map((_, i) => i).filter((i) => i !== engine);
    for (const u of UNITS) {
      await waitFor(`${u} active on one of the other hosts`, async () => ((await hostsRunning(cluster, u, others)).length === 1 ? true : undefined), { timeoutMs: 4 * TTL * 1000 });
    }
    const newEngine = await waitFor('a new engine', async () => {
      const e = await cluster.engineHost();
      return e !== undefined && e !== engine ? e : undefined;
    }, { timeoutMs: TTL * 1000 });
    console.log(`# engine on host ${engine + 1} frozen at its offer ${offerRound}; host ${newEngine + 1} leads and placed the batch ${Date.now() - frozenAt} ms later`);
    const pins = await PinWatch.pinNow(cluster, UNITS);
    watch = new PinWatch(cluster, pins);
    watch.start();

    // Everything the store sees from here on, to find anything the thawed engine got through.
    const fromRevision = Number((await store.get(keys.unitsPrefix).exec()).header.revision) + 1;
    const events: StoreEvent[] = [];
    history = await store.watch().prefix(cluster.prefix).startRevision(String(fromRevision)).create();
    history.on('put', (kv: IKeyValue) => events.push({ type: 'put', key: kv.key.toString(), revision: Number(kv.mod_revision) }));
    history.on('delete', (kv: IKeyValue) => events.push({ type: 'delete', key: kv.key.toString(), revision: Number(kv.mod_revision) }));

    // Thawed but still cut off, it resolves its stale round (at the latest after 20 round windows) and sends the decision.
    const decidedBefore = (await logLines(logPath, `round=${offerRound}`)).length;
    process.kill(pid, 'SIGCONT');
    frozen = false;
    const decided = await waitFor('the thawed engine to send its stale decision', async () => {
      const lines = await logLines(logPath, `round=${offerRound}`);
      return lines.length > decidedBefore ? lines.slice(decidedBefore) : undefined;
    }, { timeoutMs: 15_000 }).catch(async (err: unknown) => {
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n');
      throw new Error(`${err instanceof Error ? err.message : String(err)}; the engine's log ends:\n${tail}`);
    });
    cluster.heal(engine);
    console.log(`# stale decision: ${decided[0]?.slice(0, 200)}`);

    // Judged after the store checks below, so an unfenced write fails on what it wrote.
    const rejected = await waitFor('the in-flight write rejected by the fence', async () => {
      const r = await rejectedWrites(logPath);
      return r.length > 0 ? r : undefined;
    }, { timeoutMs: 10_000 }).catch(() => []);
    console.log(`# fenced off: ${rejected[0]?.line.slice(0, 400) ?? 'nothing'}`);

    // The thawed host re-registers; nothing may move meanwhile or after.
    await waitFor('the thawed host registered again', async () => {
      const m = await store.get(keys.machine(cluster.hosts[engine]?.machineId ?? '')).exec();
      return m.kvs.length === 1 && Number(m.kvs[0]?.mod_revision) >= fromRevision ? true : undefined;
    }, { timeoutMs: 3 * TTL * 1000 });
    const settleFrom = Date.now();
    await waitFor('a TTL after it returned', () => (Date.now() - settleFrom >= TTL * 1000 ? true : undefined), { timeoutMs: 2 * TTL * 1000, intervalMs: 100 });

    // Nothing the old engine computed was written: no assignment or unplaced record changed, no offer of its term.
    const engineKeys = events.filter((e) => e.type === 'put' && (e.key.startsWith(keys.assignmentsPrefix) || e.key.startsWith(keys.unplacedPrefix)));
    assert.deepEqual(engineKeys, [], 'engine keys were written after the new engine had placed the batch');
    const staleOffers = events.filter((e) => e.type === 'put' && e.key.startsWith(keys.offer(String(oldRevision).padStart(12, '0'))));
    assert.deepEqual(staleOffers, [], 'the deposed engine published an offer');
    assert.ok(rejected.length > 0, 'no write of the thawed engine was rejected by the fence');
    assert.ok(rejected.every((r) => r.revision === oldRevision), `rejected writes held revisions ${rejected.map((r) => r.revision).join(',')}, not ${oldRevision}`);
  } finally {
    if (frozen && pid > 0) process.kill(pid, 'SIGCONT');
    if (engine >= 0 && cluster.partitioned(engine)) cluster.heal(engine);
    await offers?.cancel().catch(() => undefined);
    await history?.cancel().catch(() => undefined);
    await watch?.stop();
    store.close();
  }
  assert.ok(watch.samples >= 20, `only ${watch.samples} samples`);
  assert.deepEqual(watch.violations.slice(0, 10), [], 'a unit moved, restarted or ran twice');
  for (const u of UNITS) assert.equal((await hostsRunning(cluster, u)).length, 1, `${u} is not active on exactly one host`);
});
