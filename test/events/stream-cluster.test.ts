/**
 * The event stream against a real cluster (etcd, two systemd --user hosts,
 * TTL 3 s): the ndjson handler served from this process, read over HTTP.
 * It must see units submitted, placed and started; a unit stopped, one that
 * fails and one that cannot be placed, each with its reason; the engine host's power
 * cut (machine left, leadership moving, its units moved); a stream dropped
 * and resumed from its last index sees exactly what a stream kept open saw;
 * an index etcd has compacted is an explicit resync answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { LocalCluster } from '../../src/dev/cluster.js';
import { eventsHandler, type WireEvent } from '../../src/events/stream.js';
import { historyStoreOver } from '../../src/registry/history-store.js';
import { Registry } from '../../src/registry/registry.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';

interface Line {
  Index?: number;
  Events?: WireEvent[];
  Resync?: { Index: number; Message: string };
}

class StreamClient {
  readonly lines: Line[] = [];
  status = 0;
  body = '';
  private destroy: (() => void) | undefined;

  static open(port: number, query: string): Promise<StreamClient> {
    const c = new StreamClient();
    return new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: `/flotilla/v1/events${query}` }, (res) => {
        c.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          if (c.status !== 200) return void (c.body += chunk);
          buf += chunk;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            c.lines.push(JSON.parse(buf.slice(0, nl)) as Line);
            buf = buf.slice(nl + 1);
          }
        });
        res.on('error', () => undefined);
        if (c.status !== 200) res.on('end', () => resolve(c));
        else resolve(c);
      });
      c.destroy = () => req.destroy();
      req.on('error', (err) => (c.status === 0 ? reject(err) : undefined));
    });
  }

  events(): WireEvent[] {
    return this.lines.flatMap((l) => l.Events ?? []);
  }

  wait(what: string, pick: (events: WireEvent[]) => boolean, timeoutMs = 20_000): Promise<WireEvent[]> {
    return waitFor(what, () => (pick(this.events()) ? this.events() : undefined), { timeoutMs, intervalMs: 20 });
  }

  close(): void {
    this.destroy?.();
  }
}

let cluster: LocalCluster;
let etcd: Etcd3;
let server: Server;
let port = 0;
let work: string;
const open: StreamClient[] = [];
const stream = async (query = ''): Promise<StreamClient> => {
  const c = await StreamClient.open(port, query);
  open.push(c);
  return c;
};
const has = (type: string, unit?: string, machine?: string) => (events: WireEvent[]) =>
  events.some((e) => e.Type === type && (unit === undefined || e.Payload.Unit === unit) && (machine === undefined || e.Payload.Machine === machine));
const UNITS = ['ev-a', 'ev-b', 'ev-c', 'ev-d', 'ev-e', 'ev-f'].map((u) => `${u}.service`);

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-events-'), hosts: 2, ttlSeconds: 3 });
  etcd = cluster.connect();
  const handle = eventsHandler({ store: historyStoreOver(new Registry(etcd, cluster.prefix)), heartbeatMs: 200 });
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  work = await mkdtemp('/tmp/fl-events-units-');
  for (const u of [...UNITS, 'cli.service']) await writeFile(join(work, u), '[Service]\nExecStart=/bin/sleep infinity\n');
});

after(async () => {
  for (const c of open) c.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  etcd?.close();
  await cluster?.down();
});

let reference: StreamClient;
let dropped: StreamClient;

test('stream: a start index, heartbeats, then units submitted, placed and started', async () => {
  reference = await stream();
  dropped = await stream('?unit=ev-*');
  assert.equal(reference.status, 200);
  await waitFor('the start line', () => (reference.lines[0]?.Index !== undefined ? true : undefined), { timeoutMs: 5000, intervalMs: 20 });
  assert.equal(reference.lines[0]?.Events, undefined, 'the first line is the start index alone');
  const r = await flotctl(cluster.flotctlEnv(), ['start', ...UNITS], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  for (const u of UNITS) {
    await reference.wait(`${u} submitted, placed, started`, (ev) => has('UnitSubmitted', u)(ev) && has('UnitPlaced', u)(ev) && has('UnitStarted', u)(ev));
  }
  const ev = reference.events();
  const at = (type: string, u: string) => ev.findIndex((e) => e.Type === type && e.Payload.Unit === u);
  for (const u of UNITS) assert.ok(at('UnitSubmitted', u) < at('UnitPlaced', u) && at('UnitPlaced', u) < at('UnitStarted', u), `order of ${u}`);
  const indexes = reference.lines.flatMap((l) => (l.Events ? [l.Index ?? 0] : []));
  assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), 'indexes only grow');
  assert.ok(reference.lines.some((l) => Object.keys(l).length === 0), 'heartbeats');
  await dropped.wait('the filtered stream saw the starts', (e) => UNITS.every((u) => has('UnitStarted', u)(e)));
  assert.ok(dropped.events().every((e) => e.Payload.Unit?.startsWith('ev-')), 'the unit filter holds');
});

test('stream: a unit stopped (desired changed, then stopped), one that fails (with its reason), one that cannot be placed (with the reasons)', async () => {
  const files: Record<string, string> = {
    'x-stop.service': '[Service]\nExecStart=/bin/sleep infinity\n',
    'x-fail.service': '[Service]\nType=oneshot\nExecStart=/bin/false\n',
    'x-nowhere.service': '[Service]\nExecStart=/bin/sleep infinity\n[X-Fleet]\nMachineMetadata=region=nowhere\n',
  };
  for (const [u, text] of Object.entries(files)) await writeFile(join(work, u), text);
  const started = await flotctl(cluster.flotctlEnv(), ['start', '--no-block', ...Object.keys(files)], { cwd: work });
  assert.equal(started.code, 0, started.stderr);
  await reference.wait('x-stop started', has('UnitStarted', 'x-stop.service'));
  const stopped = await flotctl(cluster.flotctlEnv(), ['stop', 'x-stop.service']);
  assert.equal(stopped.code, 0, stopped.stderr);
  // The agent reports `failed`, then why the start job failed: wait for the event that carries the reason.
  const failedWithReason = (e: WireEvent[]) => e.some((x) => x.Type === 'UnitFailed' && x.Payload.Unit === 'x-fail.service' && (x.Payload.Reason ?? '') !== '');
  const ev = await reference.wait('stopped, failed (with a reason) and unplaced events', (e) =>
    has('UnitDesiredChanged', 'x-stop.service')(e) && has('UnitStopped', 'x-stop.service')(e) && failedWithReason(e) && has('UnitUnplaced', 'x-nowhere.service')(e));
  const one = (type: string, u: string) => ev.find((e) => e.Type === type && e.Payload.Unit === u);
  assert.match(one('UnitDesiredChanged', 'x-stop.service')?.Payload.Reason ?? '', /desired launched -> loaded/);
  assert.ok(ev.indexOf(one('UnitDesiredChanged', 'x-stop.service')!) < ev.indexOf(one('UnitStopped', 'x-stop.service')!), 'desired changed before stopped');
  assert.match(one('UnitUnplaced', 'x-nowhere.service')?.Payload.Reason ?? '', /region=nowhere/);
  const destroyed = await flotctl(cluster.flotctlEnv(), ['destroy', ...Object.keys(files)]);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  await reference.wait('the three destroyed', (e) => Object.keys(files).every((u) => has('UnitDestroyed', u)(e)));
});

test('flotctl events --json --index follows the same stream', async () => {
  // From a known index, so the submit below cannot come before the command's start.
  const from = Number((await etcd.get('/_probe').exec()).header.revision);
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'events', '--json', '--unit', 'cli.service', '--index', String(from)], { env: { ...process.env, ...cluster.flotctlEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    const r = await flotctl(cluster.flotctlEnv(), ['submit', 'cli.service'], { cwd: work });
    assert.equal(r.code, 0, r.stderr);
    await waitFor('cli.service reported', () => (out.includes('\n') ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
    const first = JSON.parse(out.split('\n')[0] ?? '') as WireEvent;
    assert.equal(first.Type, 'UnitSubmitted');
    assert.equal(first.Payload.Unit, 'cli.service');
    assert.ok(first.Index > from);
  } finally {
    child.kill('SIGINT');
  }
  const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (c) => r(c))));
  assert.equal(code, 0, 'SIGINT ends it cleanly');
});

test('power cut of the engine host: machine left, leadership moves, its units move; a resumed stream misses and repeats nothing', async () => {
  const leader = await cluster.engineHost();
  assert.ok(leader !== undefined);
  const lost = cluster.hosts[leader]!.machineId;
  const other = cluster.hosts[1 - leader]!.machineId;
  const mine = UNITS.filter((u) => reference.events().some((e) => e.Type === 'UnitPlaced' && e.Payload.Unit === u && e.Payload.Machine === lost));
  assert.ok(mine.length > 0, 'the engine host got some of the units');
  // Drop the filtered stream; resume it later from the last index it received.
  const resumeFrom = Math.max(...dropped.lines.map((l) => l.Index ?? 0));
  dropped.close();
  await cluster.killHost(leader);
  const ev = await reference.wait('the engine host gone and its units moved', (e) =>
    has('MachineLeft', undefined, lost)(e) && has('EngineDeposed', undefined, lost)(e) && has('EngineElected', undefined, other)(e) &&
    mine.every((u) => e.some((x) => x.Type === 'UnitMoved' && x.Payload.Unit === u && x.Payload.Machine === other && x.Payload.From === lost)), 30_000);
  assert.ok(ev.findIndex((e) => e.Type === 'EngineDeposed') <= ev.findIndex((e) => e.Type === 'EngineElected'));
  const resumed = await stream(`?unit=ev-*&index=${resumeFrom}`);
  assert.equal(resumed.status, 200);
  const want = reference.lines
    .filter((l) => l.Events && (l.Index ?? 0) > resumeFrom)
    .map((l) => ({ Index: l.Index, Events: (l.Events ?? []).filter((e) => e.Payload.Unit?.startsWith('ev-')) }))
    .filter((l) => l.Events.length > 0);
  await waitFor('the resumed stream caught up', () => (resumed.lines.filter((l) => l.Events).length >= want.length ? true : undefined), { timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(resumed.lines[0]?.Index, resumeFrom);
  assert.deepEqual(resumed.lines.filter((l) => l.Events).slice(0, want.length), want);
  assert.ok(want.some((l) => l.Events.some((e) => e.Type === 'UnitMoved')), 'the resumed part holds the moves');
});

test('an index etcd has compacted away gets an explicit resync answer, over HTTP and from flotctl', async () => {
  const old = Math.max(...reference.lines.map((l) => l.Index ?? 0)) - 1;
  await etcd.put(`${cluster.prefix}probe`).value('x').exec();
  const head = Number((await etcd.get(`${cluster.prefix}probe`).exec()).header.revision);
  await etcd.kv.compact({ revision: String(head), physical: true });
  const r = await stream(`?index=${old}`);
  assert.equal(r.status, 410);
  const body = JSON.parse(r.body) as { error: { code: number; message: string; index: number } };
  assert.equal(body.error.code, 410);
  assert.match(body.error.message, new RegExp(`index ${old} has been compacted`));
  assert.ok(body.error.index >= head);
  const ahead = await stream(`?index=${head + 1_000_000}`);
  assert.equal(ahead.status, 410);
  assert.match(JSON.parse(ahead.body).error.message, /ahead of the store/);
  const bad = await stream('?index=x');
  assert.equal(bad.status, 400);
  const cli = await flotctl(cluster.flotctlEnv(), ['events', '--index', String(old)]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /compacted away by etcd.*resume from index \d+/);
  // The stream kept open all along is not affected by compaction of what it already read.
  assert.ok(!reference.lines.some((l) => l.Resync));
});
