/**
 * Where a CPU profile's time goes: the top functions by self time, and the
 * top files by self and by inclusive time (a sample counts once per function
 * or file on its stack, so recursion is not counted twice). Reads the Chrome
 * DevTools .cpuprofile files that `bench:scale --profile P` and
 * `node --cpu-prof` write.
 *
 *   node dist/test/bench/support/profile-summary.js [--top 15] FILE.cpuprofile...
 *
 * Times come from the profile's timeDeltas, not hitCount x interval: the
 * sampler runs late under load, and the deltas say by how much.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Row {
  name: string;
  ms: number;
}

export interface Summary {
  /** Wall time the profile covers, ms. */
  spanMs: number;
  /** Samples in (idle): the thread waiting on I/O or timers, ms. */
  idleMs: number;
  /** (garbage collector) self time, ms. */
  gcMs: number;
  topSelf: Row[];
  /** Functions of the project's own files (src/, test/) by inclusive time. */
  ownInclusive: Row[];
  fileSelf: Row[];
  fileInclusive: Row[];
}

/** "node_modules/etcd3/…" or "src/engine/step.js": short enough for a table, enough to tell modules apart. */
export function shortFile(url: string): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm);
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) return path.slice(dist + '/dist/'.length);
  return path;
}

function functionKey(n: CpuProfileNode): string {
  const f = n.callFrame;
  if (f.url === '') return f.functionName || '(anonymous)';
  return `${f.functionName || '(anonymous)'} ${shortFile(f.url)}:${f.lineNumber + 1}`;
}

function top(m: Map<string, number>, n: number): Row[] {
  return [...m].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms).slice(0, n);
}

export function summarise(p: CpuProfile, n = 15): Summary {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  // Self time per node: the sample at index i lasted until the next one, timeDeltas[i + 1].
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + us);
  }
  const selfByFn = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const inclByFile = new Map<string, number>();
  const special = new Map<string, number>();
  for (const node of p.nodes) {
    const us = self.get(node.id) ?? 0;
    const fn = functionKey(node);
    selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + us);
    if (node.callFrame.url === '') special.set(fn, (special.get(fn) ?? 0) + us);
    const file = shortFile(node.callFrame.url);
    selfByFile.set(file, (selfByFile.get(file) ?? 0) + us);
  }
  // Inclusive per file: a node's subtree total, added for its file only when no ancestor is in that file.
  const total = new Map<number, number>();
  const subtree = (id: number): number => {
    const known = total.get(id);
    if (known !== undefined) return known;
    let sum = self.get(id) ?? 0;
    for (const c of byId.get(id)?.children ?? []) sum += subtree(c);
    total.set(id, sum);
    return sum;
  };
  const inclByOwnFn = new Map<string, number>();
  const onStack = new Map<string, number>();
  // Counted once per stack: a key adds its subtree only where no ancestor has the same key.
  const enter = (key: string, id: number, into: Map<string, number>): (() => void) => {
    const depth = onStack.get(key) ?? 0;
    if (depth === 0) into.set(key, (into.get(key) ?? 0) + subtree(id));
    onStack.set(key, depth + 1);
    return () => onStack.set(key, depth);
  };
  const walk = (id: number): void => {
    const node = byId.get(id);
    if (!node) return;
    const file = shortFile(node.callFrame.url);
    const leave: (() => void)[] = [];
    if (file !== '(native)') leave.push(enter(`file ${file}`, id, inclByFile));
    if (file.startsWith('src/') || file.startsWith('test/')) leave.push(enter(`fn ${functionKey(node)}`, id, inclByOwnFn));
    for (const c of node.children ?? []) walk(c);
    for (const l of leave.reverse()) l();
  };
  // The root is the first node (id 1 in V8's profiles); walking every node with no parent covers odd files too.
  const children = new Set(p.nodes.flatMap((x) => x.children ?? []));
  for (const node of p.nodes) if (!children.has(node.id)) walk(node.id);
  const busy = new Map([...selfByFn].filter(([k]) => k !== '(idle)' && k !== '(root)'));
  return {
    spanMs: (p.endTime - p.startTime) / 1000,
    idleMs: (special.get('(idle)') ?? 0) / 1000,
    gcMs: (special.get('(garbage collector)') ?? 0) / 1000,
    topSelf: top(busy, n),
    ownInclusive: top(new Map([...inclByOwnFn].map(([k, v]) => [k.slice('fn '.length), v])), n),
    fileSelf: top(new Map([...selfByFile].filter(([k]) => k !== '(native)')), n),
    fileInclusive: top(new Map([...inclByFile].map(([k, v]) => [k.slice('file '.length), v])), n),
  };
}

/** Busy (not idle) ms in each bucketMs slice from the profile start, each sample in the slice it began in: when the process worked. */
export function timeline(p: CpuProfile, bucketMs: number): number[] {
  const idle = new Set(p.nodes.filter((x) => x.callFrame.url === '' && x.callFrame.functionName === '(idle)').map((x) => x.id));
  const out: number[] = [];
  let at = 0; // µs since startTime at which sample i began
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    const us = p.timeDeltas[i + 1] ?? 0;
    const b = Math.floor(at / 1000 / bucketMs);
    while (out.length <= b) out.push(0);
    if (!idle.has(p.samples[i]!)) out[b]! += us / 1000;
  }
  return out;
}

export function formatSummary(file: string, s: Summary): string {
  const pct = (ms: number) => `${((100 * ms) / s.spanMs).toFixed(1)} %`;
  const rows = (title: string, r: Row[]) => [`  ${title}`, ...r.map((x) => `    ${x.ms.toFixed(0).padStart(7)} ms  ${pct(x.ms).padStart(7)}  ${x.name}`)];
  return [
    `${file}: ${s.spanMs.toFixed(0)} ms profiled, idle ${s.idleMs.toFixed(0)} ms (${pct(s.idleMs)}), busy ${(s.spanMs - s.idleMs).toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms`,
    ...rows('top functions by self time', s.topSelf),
    ...rows("the project's functions by inclusive time", s.ownInclusive),
    ...rows('files by self time', s.fileSelf),
    ...rows('files by inclusive time', s.fileInclusive),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '15' }, timeline: { type: 'string' } }, allowPositionals: true });
  if (positionals.length === 0) throw new Error('usage: profile-summary [--top N] [--timeline MS] FILE.cpuprofile...');
  for (const file of positionals) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    console.log(formatSummary(file, summarise(profile, Number(values.top))));
    if (values.timeline) {
      const ms = Number(values.timeline);
      console.log(`  busy ms per ${ms} ms: ${timeline(profile, ms).map((x) => x.toFixed(0)).join(' ')}`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
