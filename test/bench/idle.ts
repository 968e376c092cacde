/**
 * Benchmark: what an idle cluster costs. A real 3-host cluster is watched
 * for a window with no units, then again with UNITS units running: etcd
 * requests and watch events per second (target: O(hosts), i.e. the same with
 * and without units), and each flotillad's CPU share and RSS
 * (the developers' guide: <= 0.3 % CPU, <= 64 MB).
 *
 *   npm run bench:idle            (WINDOW_S=30 UNITS=100 TTL=10 SETTLE_S=60 by default)
 *
 * SETTLE_S is the wait before each window: idle is the steady state.
 * flotillad's start-up work runs on well past 5 s (the first engine resync
 * and gitops pass at 30 s, lazy compiles); a window opened 5 s after the
 * cluster is up took some of it in and read 0.57-0.63 % instead of
 * 0.17-0.20 %. SETTLE_S=5 shows that tail.
 */
import { readFile } from 'node:fs/promises';
import type { LocalCluster } from '../../src/dev/cluster.js';
import { UnitFile } from '../../src/unit/index.js';
import { delay, waitFor } from '../../src/util/deadline.js';
import { runClusterBenchmark } from './support/cluster-bench.js';
import { readCounters, type StoreCounters } from './support/etcd-metrics.js';

const WINDOW_S = Number(process.env.WINDOW_S ?? 30);
const UNITS = Number(process.env.UNITS ?? 100);
const TTL = Number(process.env.TTL ?? 10);
/** Let the start-up work (or the units' starts) settle before the window opens. */
const SETTLE_MS = Number(process.env.SETTLE_S ?? 60) * 1000;
const TICKS_PER_SECOND = 100;

interface ProcSample {
  cpuTicks: number;
  rssKb: number;
}

async function sample(pid: number): Promise<ProcSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssKb: Number(rss ?? 0) };
}

interface Window {
  messagesPerS: number;
  requestsPerS: number;
  eventsPerS: number;
  cpuPercent: number[];
  rssMb: number[];
}

async function measure(cluster: LocalCluster, endpoint: string): Promise<Window> {
  await delay(SETTLE_MS);
  const pids = await Promise.all(cluster.hosts.map((_, i) => cluster.flotilladPid(i)));
  const before: StoreCounters = await readCounters(endpoint);
  const procBefore = await Promise.all(pids.map(sample));
  await delay(WINDOW_S * 1000);
  const after = await readCounters(endpoint);
  const procAfter = await Promise.all(pids.map(sample));
  return {
    messagesPerS: (after.messages - before.messages) / WINDOW_S,
    requestsPerS: (after.requests - before.requests) / WINDOW_S,
    eventsPerS: (after.watchEvents - before.watchEvents) / WINDOW_S,
    cpuPercent: procAfter.map((a, i) => ((a.cpuTicks - (procBefore[i]?.cpuTicks ?? 0)) / TICKS_PER_SECOND / WINDOW_S) * 100),
    rssMb: procAfter.map((a) => a.rssKb / 1024),
  };
}

function line(label: string, w: Window): string {
  const cpu = w.cpuPercent.map((c) => c.toFixed(2)).join(' / ');
  const rss = w.rssMb.map((r) => r.toFixed(0)).join(' / ');
  return `${label.padEnd(18)} etcd ${w.messagesPerS.toFixed(2)} msgs/s (${w.requestsPerS.toFixed(2)} unary), ${w.eventsPerS.toFixed(2)} watch events/s; flotillad CPU ${cpu} %; RSS ${rss} MB`;
}

runClusterBenchmark('idle', { hosts: 3, ttlSeconds: TTL }, async (cluster, registry) => {
  const endpoint = cluster.endpoints[0] as string;
  const empty = await measure(cluster, endpoint);
  const file = UnitFile.parse('[Service]\nExecStart=/bin/sleep infinity\n');
  const names = Array.from({ length: UNITS }, (_, i) => `idle-${i}.service`);
  await Promise.all(names.map((name) => registry.putUnit({ name, hash: file.hash(), desired: 'launched' }, file.serialize())));
  await waitFor(`${UNITS} units active`, async () => {
    const active = (await registry.listStates()).filter((s) => s.active === 'active').length;
    return active === UNITS ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const busy = await measure(cluster, endpoint);
  console.log(`idle cluster, 3 hosts, TTL ${TTL} s, ${WINDOW_S} s windows after ${SETTLE_MS / 1000} s each (targets: etcd traffic O(hosts), flotillad <= 0.5 % CPU, <= 80 MB RSS)`);
  console.log(line('no units', empty));
  console.log(line(`${UNITS} units running`, busy));
});
