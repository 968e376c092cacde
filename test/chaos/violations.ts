/**
 * Violations, kept as episodes: a duplicate seen in 14 consecutive samples
 * is one violation lasting from its first to its last sample, not 14. Each
 * names the faults in force (and just ended) when it was first seen, which
 * is what the people fixing it need first.
 */
import type { FaultLog } from './fault-log.js';

export type ViolationKind =
  /** An OnDisconnect=stop unit running on two or more hosts in one sample. */
  | 'duplicate-stop'
  /** A launched unit's record or content missing or changed in etcd. */
  | 'etcd-missing'
  /** Converged after a burst, but later than TTL + 2 s after its last fault ended. */
  | 'slow-convergence'
  /** Did not converge at all before the checker gave up waiting. */
  | 'not-converged';

export interface Violation {
  kind: ViolationKind;
  unit: string;
  /** Host names involved (union over the episode). */
  hosts: string[];
  /** Run clock (ms since start) of the first and last sample showing it. */
  first: number;
  last: number;
  samples: number;
  detail: string;
  /** Ids of the faults in force at `first`, and of those that had ended shortly before. */
  active: number[];
  recent: number[];
}

export class Violations {
  readonly list: Violation[] = [];
  private readonly open = new Map<string, Violation>();

  constructor(private readonly faults: FaultLog) {}

  /** Seen at `at`: extends the open episode of the same kind and unit, or opens one. */
  seen(kind: ViolationKind, unit: string, hosts: string[], at: number, detail: string): void {
    const key = `${kind}\0${unit}`;
    const v = this.open.get(key);
    if (v) {
      v.last = at;
      v.samples++;
      for (const h of hosts) if (!v.hosts.includes(h)) v.hosts.push(h);
      return;
    }
    const fresh = this.make(kind, unit, hosts, at, detail);
    this.open.set(key, fresh);
    this.list.push(fresh);
  }

  /** Not seen at this check: its episode (if any) is over. */
  clear(kind: ViolationKind, unit: string): void {
    this.open.delete(`${kind}\0${unit}`);
  }

  /** A one-off violation (convergence is judged once per burst). */
  add(kind: ViolationKind, unit: string, hosts: string[], at: number, detail: string): void {
    this.list.push(this.make(kind, unit, hosts, at, detail));
  }

  count(kind?: ViolationKind): number {
    return kind ? this.list.filter((v) => v.kind === kind).length : this.list.length;
  }

  private make(kind: ViolationKind, unit: string, hosts: string[], at: number, detail: string): Violation {
    return {
      kind,
      unit,
      hosts: [...hosts],
      first: at,
      last: at,
      samples: 1,
      detail,
      active: this.faults.activeAt(at).map((f) => f.id),
      recent: this.faults.recentAt(at).map((f) => f.id),
    };
  }
}
