/**
 * Adversarial inputs benchmark (issue 8): every scenario of
 * support/adversarial-inputs.ts is a cluster of 100 units on 10 machines,
 * all of one kind, fed through each component's real code:
 *
 *   validate   flotctl's checks of one unit file (size, UTF-8, parse,
 *              validateUnit)
 *   read       the engine reading one stored unit (readStoredUnit,
 *              requirements, limits, what hosts must judge); the agents'
 *              content cache reads it the same way
 *   graph      the engine building the Replaces graph over the cluster
 *   graph+1    ... and updating it when one more unit arrives (what an
 *              engine step pays; steps that change nothing match nothing)
 *   place      one engine round placing every unit (the pure scheduler) and
 *              re-evaluating the result
 *   bid        an agent judging one offered unit (refusalReason) on a host
 *              with a 64-character hostname
 *
 * Units refused at submit are also read and bid on as if they had been
 * stored around flotctl: the engine and agent must judge them cheaply too.
 * Prints each scenario's CPU time per unit and stage (the mean over its units;
 * for whole-cluster stages the stage's time over the units in it; graph+1
 * is per arrival), then per stage the slowest scenario against the target of
 * 10 ms per unit, with the plain baseline cluster of the same run as the
 * ratio's base. Everything runs once untimed first (JIT warm-up). No
 * assertions: figures only.
 *
 *   npm run bench:adversarial                (UNITS=100 MACHINES=10 RUNS=3)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusalReason, type HostFacts } from '../../src/conditions/host-checks.js';
import { ReplaceGraph, evaluatePlacements, placeUnits, type Candidate, type PlacementRequest } from '../../src/scheduler/index.js';
import { decodeUnitFile } from '../../src/client/operations/local-files.js';
import {
  UnitFile,
  fileSizeProblem,
  needsHostJudgement,
  parseRequirements,
  readStoredUnit,
  requirementsProblem,
  validateUnit,
  verdictDependsOnName,
  type UnitRequirements,
} from '../../src/unit/index.js';
import { errorMessage } from '../../src/util/errors.js';
import { LONG_HOSTNAME, scenarios, type Scenario } from './support/adversarial-inputs.js';

const UNITS = Number(process.env.UNITS ?? 100);
const MACHINES = Number(process.env.MACHINES ?? 10);
const RUNS = Number(process.env.RUNS ?? 3);
const TARGET_MS = 10;
/** Units that arrive one at a time for the graph+1 figure. */
const ARRIVALS = 10;
/** Whole-cluster stages: judged per unit in the cluster (graph+1 matches every name too). */
const WHOLE: ReadonlySet<Stage> = new Set(['graph', 'graph+1', 'place']);

type Stage = 'validate' | 'read' | 'graph' | 'graph+1' | 'place' | 'bid';
const STAGES: readonly Stage[] = ['validate', 'read', 'graph', 'graph+1', 'place', 'bid'];

interface Outcome {
  /** ms per unit, per stage: the mean over the units, or the whole stage over its units. */
  perUnit: Record<Stage, number>;
  accepted: number;
  /** The first refusal at submit, for the table. */
  refusal?: string;
  /** Units the engine can place (read without a reason). */
  placeable: number;
}

/**
 * CPU time (this process, all threads), not wall time: on a shared machine
 * wall time mostly measures waiting for a core. What an input costs a
 * component is the CPU it burns (a bid's file checks wait on the disk
 * without blocking anything).
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t = cpuMs();
  const value = fn();
  return { ms: cpuMs() - t, value };
}

/** A fixed pure-JS workload: how fast this machine runs JS right now (printed with the figures). */
function referenceMs(): number {
  const t = performance.now();
  let x = 0;
  for (let i = 0; i < 50_000_000; i++) x = (x + (i & 7)) | 0;
  if (x === 42) console.log('');
  return performance.now() - t;
}

function host(root: string): HostFacts {
  return {
    machineId: '0123456789abcdef0123456789abcdef',
    hostname: LONG_HOSTNAME,
    metadata: {},
    architecture: 'x86-64',
    kernelCommandLine: 'quiet',
    memoryBytes: 8 * 1024 ** 3,
    cpus: 4,
    environment: {},
    root,
  };
}

async function runScenario(s: Scenario, root: string): Promise<Outcome> {
  const perUnit: Record<Stage, number> = { validate: 0, read: 0, graph: 0, 'graph+1': 0, place: 0, bid: 0 };
  const count = s.units.length;
  let accepted = 0;
  let refusal: string | undefined;
  const files = s.units.map((u) => ({ name: u.name, bytes: Buffer.from(u.text, 'utf8') }));
  const verdicts = time(() =>
    files.map((f) => {
      try {
        // What flotctl does with a file it read (src/client/operations/local-files.ts, create.ts).
        const tooBig = fileSizeProblem(f.bytes.length);
        if (tooBig !== undefined) return tooBig;
        validateUnit(UnitFile.parse(decodeUnitFile(f.name, f.bytes)), f.name);
        return undefined;
      } catch (err) {
        return errorMessage(err);
      }
    }),
  );
  perUnit.validate = verdicts.ms / count;
  for (const v of verdicts.value) {
    if (v === undefined) accepted++;
    else refusal ??= v;
  }
  // What would be stored: the serialization, or the raw text if it does not even parse.
  const stored = s.units.map((u) => {
    try {
      return { name: u.name, text: UnitFile.parse(u.text).serialize() };
    } catch {
      return { name: u.name, text: u.text }; // stored around flotctl as written
    }
  });

  const requirements = new Map<string, UnitRequirements>();
  const parsed = new Map<string, UnitFile | string>();
  perUnit.read =
    time(() => {
      for (const u of stored) {
        const file = readStoredUnit(u.text);
        parsed.set(u.name, file);
        if (typeof file === 'string') continue;
        needsHostJudgement(file);
        verdictDependsOnName(file);
        const req = parseRequirements(file, u.name).requirements;
        if (requirementsProblem(req) === undefined) requirements.set(u.name, req);
      }
    }).ms / count;

  const n = Math.max(1, requirements.size);
  const graph = time(() => ReplaceGraph.build(requirements));
  perUnit.graph = graph.ms / n;
  // The last ARRIVALS units arrive one at a time, each step building on the last graph.
  const entries = [...requirements];
  const arrivals = Math.min(ARRIVALS, entries.length);
  let grown = ReplaceGraph.build(entries.slice(0, entries.length - arrivals));
  perUnit['graph+1'] =
    time(() => {
      for (let k = entries.length - arrivals + 1; k <= entries.length; k++) grown = ReplaceGraph.build(entries.slice(0, k), grown);
    }).ms / Math.max(1, arrivals);
  const candidates: Candidate[] = Array.from({ length: MACHINES }, (_, m) => ({
    machineId: String(m).padStart(32, '0'),
    load: 0,
    accepts: { has: () => true },
    refuses: { get: () => undefined },
  }));
  const requests: PlacementRequest[] = [...requirements].map(([unit, req]) => ({ unit, requirements: req }));
  const place = time(() => {
    const decision = placeUnits(requests, candidates, { unitsByMachine: new Map(), requirements, replaces: graph.value });
    return evaluatePlacements({
      assigned: decision.placements.map((p, i) => ({ unit: p.unit, machineId: p.machineId, since: i })),
      metadata: new Map(),
      requirements,
      replaces: graph.value,
    });
  });
  perUnit.place = place.ms / n;

  const bidStart = cpuMs();
  for (const u of stored) {
    const file = parsed.get(u.name)!;
    // A fresh host value per unit: nothing judged for one unit is reused for the next.
    if (typeof file !== 'string') await refusalReason(u.name, file, host(root));
  }
  perUnit.bid = (cpuMs() - bidStart) / count;
  return { perUnit, accepted, placeable: requirements.size, ...(refusal !== undefined ? { refusal } : {}) };
}

/** The median of RUNS runs, per stage (the machine may be shared). */
function median(outcomes: readonly Outcome[]): Outcome {
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const perUnit = Object.fromEntries(STAGES.map((st) => [st, mid(outcomes.map((o) => o.perUnit[st]))])) as Record<Stage, number>;
  return { ...outcomes[0]!, perUnit };
}

const fmt = (ms: number): string => (ms < 0.001 ? '<0.001' : ms.toFixed(ms < 1 ? 3 : 1)).padStart(8);

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'fl-adversarial-'));
  try {
    const all = scenarios(UNITS);
    const before = referenceMs();
    for (const s of all) await runScenario(s, root);
    const results: Array<[Scenario, Outcome]> = [];
    for (const s of all) {
      const outcomes: Outcome[] = [];
      for (let r = 0; r < RUNS; r++) outcomes.push(await runScenario(s, root));
      results.push([s, median(outcomes)]);
    }
    const after = referenceMs();
    console.log(`bench:adversarial: ${UNITS} units per scenario on ${MACHINES} machines, median of ${RUNS} runs`);
    console.log(`CPU ms per unit (graph, place: the stage's CPU time over the units in it; graph+1: per arrival)`);
    console.log(`machine: load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} CPUs; reference loop ${before.toFixed(0)} ms before, ${after.toFixed(0)} ms after (wall)`);
    console.log(`${'scenario'.padEnd(40)}${STAGES.map((s) => s.padStart(9)).join('')}  accepted/placeable  refused at submit with`);
    for (const [s, o] of results) {
      const why = o.refusal === undefined ? '' : o.refusal.length > 90 ? `${o.refusal.slice(0, 89)}…` : o.refusal;
      console.log(`${s.name.padEnd(40)}${STAGES.map((st) => ` ${fmt(o.perUnit[st])}`).join('')}  ${`${o.accepted}/${o.placeable}`.padStart(8)}            ${why}`);
    }
    const base = results.find(([s]) => s.name === 'baseline')![1];
    console.log(`\nslowest input per stage (target <= ${TARGET_MS} ms per unit; whole-cluster stages: per unit in the cluster):`);
    // graph+1 is per arrival, over a cluster of `placeable` units: per unit in it, like graph and place.
    const judged = (st: Stage, o: Outcome): number => (st === 'graph+1' ? o.perUnit[st] / Math.max(1, o.placeable) : o.perUnit[st]);
    for (const st of STAGES) {
      const [s, o] = results.reduce((a, b) => (judged(st, b[1]) > judged(st, a[1]) ? b : a));
      const ms = judged(st, o);
      const b = judged(st, base);
      const ratio = b > 0 ? `${(ms / b).toFixed(1)}x` : 'n/a';
      const verdict = ms <= TARGET_MS ? 'within target' : 'OVER TARGET';
      const per = WHOLE.has(st) ? 'per unit in the cluster' : 'per unit';
      console.log(`  ${st.padEnd(9)} ${fmt(ms)} ms ${per.padEnd(24)} ${verdict}  (${s.name}; ${ratio} the baseline's ${fmt(b).trim()} ms)`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
