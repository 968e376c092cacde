/** The chaos run's figures and violation list, as printed for people. */
import { percentile } from '../bench/stats.js';
import { describeFault, FAULT_KINDS, secs, type FaultRecord } from './fault-log.js';
import type { BurstResult, ChaosReport } from './suite.js';
import type { Violation, ViolationKind } from './violations.js';

const KINDS: ViolationKind[] = ['duplicate-stop', 'slow-convergence', 'not-converged', 'etcd-missing'];

export function worstRecovery(r: ChaosReport): BurstResult | undefined {
  let worst: BurstResult | undefined;
  for (const b of r.bursts) {
    const ms = b.recoveryMs ?? Infinity;
    if (!worst || ms > (worst.recoveryMs ?? Infinity)) worst = b;
  }
  return worst;
}

function faultLine(r: ChaosReport): string {
  const parts = FAULT_KINDS.map((k) => {
    const n = r.faultCounts[k];
    if (k !== 'partition' || n === 0) return `${k} ${n}`;
    const p = r.faults.filter((f) => f.kind === 'partition');
    const mode = (m: string) => p.filter((f) => f.detail.startsWith(m)).length;
    return `${k} ${n} (blackhole ${mode('blackhole')}, reset ${mode('reset')})`;
  });
  return `faults injected: ${r.faults.length}: ${parts.join(', ')}`;
}

function burstFaults(b: BurstResult): string {
  return b.faults.map((f: FaultRecord) => `${f.kind} ${f.target} (${f.detail})`).join(' + ');
}

function recoveryLine(r: ChaosReport): string {
  const done = r.bursts.flatMap((b) => (b.recoveryMs === undefined ? [] : [b.recoveryMs]));
  const never = r.bursts.length - done.length;
  const worst = worstRecovery(r);
  const worstText = !worst ? 'n/a'
    : worst.recoveryMs === undefined ? `never (burst ${worst.id}: ${burstFaults(worst)})`
      : `${secs(worst.recoveryMs)} (burst ${worst.id}: ${burstFaults(worst)})`;
  return `recovery (last fault ended -> every unit correctly placed, stable 2 s; bound TTL+2 = ${secs(r.boundMs)}): ` +
    `${r.bursts.length} bursts, median ${done.length ? secs(percentile(done, 50)) : 'n/a'}, p90 ${done.length ? secs(percentile(done, 90)) : 'n/a'}, ` +
    `worst ${worstText}${never > 0 ? `, ${never} never converged` : ''}`;
}

/** Bursts of only transient faults that still started or stopped units: the issue says they must not. */
function disruptionLines(r: ChaosReport): string[] {
  const transient = r.bursts.filter((b) => b.transient);
  const hit = transient.filter((b) => b.transitions.length > 0);
  const lines = [`disruptions (units started/stopped by bursts of only transient faults: agent or engine crash-restart, etcd member loss, partition <= TTL/2): ${hit.length} of ${transient.length} such bursts`];
  for (const b of hit) {
    const moves = b.transitions.map((t) => `${t.kind} ${t.unit.replace('.service', '')}@host${t.host + 1} +${secs(t.at)}`);
    lines.push(`  burst ${b.id} (${burstFaults(b)}): ${moves.slice(0, 8).join(', ')}${moves.length > 8 ? `, … ${moves.length - 8} more` : ''}`);
  }
  return lines;
}

/** Keep and global units started or stopped by whole-store outage bursts: issue 4 says none may be. */
export function outageDisruptions(r: ChaosReport): Array<{ burst: BurstResult; moves: string[] }> {
  const keep = new Set(r.units.filter((u) => u.global || u.policy === 'keep').map((u) => u.name));
  return r.bursts
    .filter((b) => b.outage)
    .map((b) => ({ burst: b, moves: b.transitions.filter((t) => keep.has(t.unit)).map((t) => `${t.kind} ${t.unit.replace('.service', '')}@host${t.host + 1} +${secs(t.at)}`) }));
}

function outageLines(r: ChaosReport): string[] {
  const all = outageDisruptions(r);
  const hit = all.filter((o) => o.moves.length > 0);
  return [
    `whole-etcd outages (alone or with transient faults): ${all.length} bursts; keep or global units started/stopped by them: ${hit.length} bursts`,
    ...hit.map((o) => `  burst ${o.burst.id} (${burstFaults(o.burst)}): ${o.moves.slice(0, 8).join(', ')}`),
  ];
}

/** Faults that cut an agent off past its lease: the ones OnDisconnect=stop exists for. */
function cutsOff(f: FaultRecord, r: ChaosReport): boolean {
  if (f.kind === 'agent-stop' || f.kind === 'engine-stop' || f.kind === 'etcd-outage') return true;
  return f.kind === 'partition' && f.end !== undefined && f.end - f.start > r.ttlSeconds * 1000;
}

/** Which lease-losing faults were in force when each duplicate began, and the longest duplicate. */
function duplicateLine(r: ChaosReport): string | undefined {
  const dups = r.violations.filter((v) => v.kind === 'duplicate-stop');
  if (dups.length === 0) return undefined;
  const causes = new Map<string, number>();
  for (const v of dups) {
    const ids = v.active.length > 0 ? v.active : v.recent;
    const kinds = new Set(ids.flatMap((id) => r.faults.filter((f) => f.id === id && cutsOff(f, r)).map((f) => f.kind)));
    const key = [...kinds].sort().join('+') || 'no lease-losing fault';
    causes.set(key, (causes.get(key) ?? 0) + 1);
  }
  const longest = Math.max(...dups.map((v) => v.last - v.first));
  return `duplicate-stop by fault in force (partitions > TTL, SIGSTOPs): ${[...causes].map(([k, n]) => `${k} ${n}`).join(', ')}; longest seen ${secs(longest)}`;
}

function violationLines(r: ChaosReport, v: Violation, n: number): string[] {
  const faults = (ids: number[]) => ids.flatMap((id) => r.faults.filter((f) => f.id === id).map(describeFault)).join('; ');
  const span = v.first === v.last ? `+${secs(v.first)}` : `+${secs(v.first)}..+${secs(v.last)}`;
  const out = [`  ${n}. ${v.kind} ${v.unit}${v.hosts.length ? ` on ${v.hosts.join(',')}` : ''} ${span} (${v.samples} sample${v.samples === 1 ? '' : 's'}): ${v.detail}`];
  out.push(`     faults active: ${v.active.length ? faults(v.active) : 'none'}`);
  if (v.recent.length) out.push(`     ended just before: ${faults(v.recent)}`);
  return out;
}

export function formatReport(r: ChaosReport, maxViolations = 60): string[] {
  const count = (p: 'keep' | 'stop') => r.units.filter((u) => !u.global && u.policy === p).length;
  const byKind = KINDS.map((k) => `${k} ${r.violations.filter((v) => v.kind === k).length}`).join(', ');
  const lines = [
    `chaos run: seed ${r.seed}, ${r.hosts} hosts, TTL ${r.ttlSeconds} s, 3 etcd members; faults for ${secs(r.ranMs)} after initial placement (${secs(r.initialPlacementMs)})${r.interrupted ? ', INTERRUPTED' : ''}`,
    `units: ${count('keep')} OnDisconnect=keep, ${count('stop')} OnDisconnect=stop, ${r.units.filter((u) => u.global).length} global`,
    faultLine(r),
    `samples: ${r.samples} (every ${r.sampleEveryMs} ms, all ${r.hosts} hosts each; host read errors ${r.hostErrors}; worst spread across hosts ${r.maxSampleSpanMs} ms)`,
    `etcd checks: ${r.etcdChecks} (read errors ${r.etcdReadErrors})`,
    recoveryLine(r),
    ...disruptionLines(r),
    ...outageLines(r),
    `flotillad crashes (restarts by its systemd that no injected kill explains): ${r.agentCrashes.length}`,
    ...r.agentCrashes.flatMap((c) => [`  burst ${c.burst} ${c.host}: ${c.restarts} restart(s), ${c.killed} injected`, ...c.log.map((l) => `    ${l}`)]),
    `violations: ${r.violations.length} (${byKind})`,
  ];
  const dup = duplicateLine(r);
  if (dup) lines.push(`  ${dup}`);
  r.violations.slice(0, maxViolations).forEach((v, i) => lines.push(...violationLines(r, v, i + 1)));
  if (r.violations.length > maxViolations) lines.push(`  … ${r.violations.length - maxViolations} more`);
  return lines;
}
