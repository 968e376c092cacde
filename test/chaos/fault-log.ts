/**
 * What was injected and when, on the run's clock (ms since the run began),
 * so every violation can name the faults that were active, or had just
 * ended, when it was seen.
 */
/**
 * engine-stop: SIGSTOP of the engine leader's flotillad past its TTL, then SIGCONT (a deposed engine wakes up).
 * etcd-outage: every etcd member killed past the TTL, then all restarted (a whole-store outage).
 */
export const FAULT_KINDS = ['agent-kill', 'agent-stop', 'engine-kill', 'engine-stop', 'etcd-kill', 'etcd-outage', 'partition'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  id: number;
  kind: FaultKind;
  /** host2, etcd member s1, … */
  target: string;
  /** Mode, planned duration and the like, for people. */
  detail: string;
  start: number;
  /** When the fault was fully undone (healed, resumed, restarted); undefined while active. */
  end: number | undefined;
  /** Anything that went differently from the plan (target gone, resume found no process…). */
  note?: string;
}

/** How long after its end a fault still counts as a likely cause. */
export const RECENT_MS = 10_000;

export class FaultLog {
  readonly records: FaultRecord[] = [];
  private seq = 0;

  constructor(readonly t0: number = Date.now()) {}

  now(): number {
    return Date.now() - this.t0;
  }

  begin(kind: FaultKind, target: string, detail: string): FaultRecord {
    const r: FaultRecord = { id: ++this.seq, kind, target, detail, start: this.now(), end: undefined };
    this.records.push(r);
    return r;
  }

  end(r: FaultRecord, note?: string): void {
    r.end ??= this.now();
    if (note) r.note = r.note ? `${r.note}; ${note}` : note;
  }

  /** Faults in force at run time t. */
  activeAt(t: number): FaultRecord[] {
    return this.records.filter((r) => r.start <= t && (r.end === undefined || r.end >= t));
  }

  /** Faults that ended within RECENT_MS before t. */
  recentAt(t: number): FaultRecord[] {
    return this.records.filter((r) => r.end !== undefined && r.end < t && t - r.end <= RECENT_MS);
  }

  countByKind(): Record<FaultKind, number> {
    const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    for (const r of this.records) out[r.kind]++;
    return out;
  }
}

export function describeFault(r: FaultRecord): string {
  const span = r.end === undefined ? `+${secs(r.start)}..` : `+${secs(r.start)}..+${secs(r.end)}`;
  return `#${r.id} ${r.kind} ${r.target} (${r.detail}) ${span}${r.note ? ` [${r.note}]` : ''}`;
}

export function secs(ms: number): string {
  return (ms / 1000).toFixed(1) + 's';
}
