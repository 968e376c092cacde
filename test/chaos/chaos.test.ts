/**
 * The chaos suite as part of `npm test`: about two minutes of random faults
 * on a real 4-host cluster with a 3-member etcd (see suite.ts), then the
 * invariants of issue 4 asserted on what every host's systemd really ran.
 *
 * CHAOS_SEED reruns a schedule; CHAOS_SECONDS changes the length. The long
 * soak is `npm run chaos -- --minutes 30`.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS } from './fault-log.js';
import { randomSeed } from './random.js';
import { formatReport, outageDisruptions } from './report.js';
import { runChaos, type ChaosReport } from './suite.js';
import type { Violation, ViolationKind } from './violations.js';

const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : randomSeed();
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 120);
const HOSTS = 4;
const TTL = 3;

let report: ChaosReport;

before(async () => {
  console.log(`# chaos seed ${SEED} (rerun with CHAOS_SEED=${SEED})`);
  report = await runChaos({ durationMs: SECONDS * 1000, seed: SEED, hosts: HOSTS, ttlSeconds: TTL, say: (l) => console.log(`# ${l}`) });
  for (const line of formatReport(report)) console.log(`# ${line}`);
});

function only(kind: ViolationKind): Violation[] {
  return report.violations.filter((v) => v.kind === kind);
}

/** Enough to read in a failure message without the whole list (the report above has it). */
function brief(vs: Violation[]): string {
  return vs.slice(0, 5).map((v) => `${v.kind} ${v.unit} on ${v.hosts.join(',')} at +${(v.first / 1000).toFixed(1)}s: ${v.detail}`).join('\n');
}

test('the run injected faults and sampled every host several times a second', () => {
  assert.ok(report.bursts.length >= 5, `only ${report.bursts.length} fault bursts ran`);
  const kinds = FAULT_KINDS.filter((k) => report.faultCounts[k] > 0);
  assert.ok(kinds.length >= 3, `only ${kinds.join(', ')} were injected`);
  const perSecond = report.samples / ((report.ranMs + report.initialPlacementMs) / 1000);
  assert.ok(perSecond >= 2, `only ${perSecond.toFixed(1)} samples per second`);
  assert.ok(report.hostErrors <= report.samples * 0.01, `${report.hostErrors} host reads failed in ${report.samples} samples`);
});

test('an OnDisconnect=stop unit never runs on two hosts in any sample', () => {
  const dups = only('duplicate-stop');
  assert.equal(dups.length, 0, brief(dups));
});

test('after every burst, every unit is active on exactly one host (global: all hosts) within TTL + 2 s', () => {
  const bad = [...only('slow-convergence'), ...only('not-converged')];
  assert.equal(bad.length, 0, brief(bad));
});

test('a whole-etcd outage starts or stops no keep or global unit (only stop units are fenced)', () => {
  const hit = outageDisruptions(report).filter((o) => o.moves.length > 0);
  assert.deepEqual(hit.map((o) => `burst ${o.burst.id}: ${o.moves.join(', ')}`), []);
});

test('no launched unit record, desired state or content ever went missing from etcd', () => {
  const missing = only('etcd-missing');
  assert.equal(missing.length, 0, brief(missing));
  assert.ok(report.etcdChecks > 0);
});
