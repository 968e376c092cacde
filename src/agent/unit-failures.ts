/**
 * Assignments this agent could not carry out, unit by unit. A unit whose
 * content cannot be fetched, or whose file cannot be written or linked, or
 * which systemd cannot reload, start or stop, fails alone: every other unit
 * of the batch proceeds. The failed one is retried with backoff (1 s,
 * doubling, at most 60 s) while its assignment stands; a changed assignment
 * (new content or desired state) is tried at once. A failure is logged as a
 * warning once per unit, content and reason, not once per retry.
 */
import type { AssignedState, AssignmentRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';

export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 60_000;

/** A unit's last failure: for which assignment, why, how often, and when to try again. */
export interface UnitFailure {
  hash: string;
  desired: AssignedState;
  reason: string;
  attempts: number;
  retryAt: number;
}

/** Pure: whether to try `a` at `now`, given the unit's failure `f`: a failure of another assignment does not count. */
export function failureDue(f: Readonly<UnitFailure> | undefined, a: AssignmentRecord, now: number): boolean {
  return f === undefined || f.hash !== a.hash || f.desired !== a.desired || now >= f.retryAt;
}

export class UnitFailures {
  private readonly byUnit = new Map<string, UnitFailure>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Carrying out `a` failed for `reason` (one line, for people). */
  record(a: AssignmentRecord, reason: string): void {
    const prev = this.of(a);
    const attempts = (prev?.attempts ?? 0) + 1;
    const retryInMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempts - 1, 16));
    this.byUnit.set(a.unit, { hash: a.hash, desired: a.desired, reason, attempts, retryAt: this.now() + retryInMs });
    if (prev?.reason === reason) {
      this.log.debug({ unit: a.unit, reason, attempts, retryInMs }, 'unit failed here again');
    } else {
      this.log.warn({ unit: a.unit, hash: a.hash, reason, retryInMs }, 'unit failed here; the other units carry on; retrying it with backoff');
    }
  }

  /** Whether to try `a` now: it has not failed, failed for another assignment, or its retry is due. */
  due(a: AssignmentRecord): boolean {
    return failureDue(this.byUnit.get(a.unit), a, this.now());
  }

  /** Every unit's failure, as plain data (for the batch plan). */
  all(): ReadonlyMap<string, Readonly<UnitFailure>> {
    return this.byUnit;
  }

  /** The unit's assignment was carried out. */
  succeeded(unit: string): void {
    const f = this.byUnit.get(unit);
    if (!f) return;
    this.byUnit.delete(unit);
    this.log.info({ unit, attempts: f.attempts }, 'unit failed here before; now carried out');
  }

  /** The unit is not assigned here any more. */
  forget(unit: string): void {
    this.byUnit.delete(unit);
  }

  units(): IterableIterator<string> {
    return this.byUnit.keys();
  }

  /** When the earliest retry is due, if any unit waits for one. */
  nextRetryAt(): number | undefined {
    let at: number | undefined;
    for (const f of this.byUnit.values()) at = Math.min(at ?? Infinity, f.retryAt);
    return at;
  }

  /** The failure recorded for exactly this assignment. */
  private of(a: AssignmentRecord): UnitFailure | undefined {
    const f = this.byUnit.get(a.unit);
    return f && f.hash === a.hash && f.desired === a.desired ? f : undefined;
  }
}
