/**
 * What one reconcile batch must do, decided from plain data: the
 * assignments read from etcd for this machine, what is on disk, what was
 * last carried out, and the host's handover and failure bookkeeping. No I/O
 * here; batch-executor.ts carries the tasks out, in the order given (fleet's
 * reconciler: compute the tasks, then do them).
 *
 * The order is the one a batch has always had: forget failures of units no
 * longer ours, end handovers of units assigned here again, hand over or
 * unload units no longer assigned here, stop the old copies of units whose
 * content changed, write and link new or changed files, one daemon-reload
 * for the batch if any unit needs it, report what failed, then bring every
 * unit to its assigned state (start, stop or adopt), and finally drop cached
 * contents and arm the retry of failed units.
 *
 * Decisions the plan cannot make without systemd are taken by two inputs
 * the caller reads first: whether a returning unit runs (`running`, for the
 * units `handoverCandidates` names), and, when a unit is brought to its
 * state, whether it runs now (`convergeAction`, given systemd's answer).
 */
import type { AssignedState, AssignmentRecord } from '../registry/records.js';
import type { HandoverVerdict } from './handover.js';
import { failureDue, type UnitFailure } from './unit-failures.js';

/** systemd active states in which a unit counts as running. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['active', 'activating', 'reloading']);

export interface BatchInputs {
  /** Lease lost: the assignments read may already be someone else's. */
  held: boolean;
  /** Assignments read from etcd for this machine, by unit. */
  desired: ReadonlyMap<string, AssignmentRecord>;
  /** Units whose assignment here exists but does not decode: left exactly as they are. */
  unreadable: ReadonlySet<string>;
  /** unit -> hash of its file on disk. */
  local: ReadonlyMap<string, string>;
  /** unit -> the state last carried out for it. */
  applied: ReadonlyMap<string, AssignedState>;
  /** unit -> hash of the content this host reports it runs. */
  reported: ReadonlyMap<string, string>;
  /** OnDisconnect=stop units here (bound to the lease target): never handed over. */
  bound: ReadonlySet<string>;
  /** Global units here: a copy elsewhere does not replace ours. */
  globals: ReadonlySet<string>;
  /** Units on this host when it came back: handed over rather than stopped if re-placed meanwhile. */
  returning: ReadonlySet<string>;
  /** Units whose file is on disk but not (yet) linked and loaded by systemd. */
  unready: ReadonlySet<string>;
  /** Units that failed here, with their backoff. */
  failures: ReadonlyMap<string, Readonly<UnitFailure>>;
  /** The time the failures' backoff is judged at (ms since the epoch). */
  now: number;
  /** Units being handed over, with whether their copy may stop now. */
  handovers: ReadonlyMap<string, HandoverVerdict>;
  /** Of `handoverCandidates`, those that run (or whose state systemd cannot tell). */
  running: ReadonlySet<string>;
}

export type BatchTask =
  /** The unit is not ours any more: drop its failure (and its report, if it never got a file). */
  | { kind: 'forget-failure'; unit: string; removeReport: boolean }
  /** Assigned here again while handed over: the copy here carries on. */
  | { kind: 'end-handover'; unit: string }
  /** Re-placed while this host was away and still running: keep it running until its replacement is (handover.ts). */
  | { kind: 'hand-over'; unit: string; global: boolean }
  /** The batch has decided about the units that were on this host when it came back. */
  | { kind: 'returning-decided'; units: readonly string[] }
  /** Not assigned here: stop it, unlink it, remove its file. `handoverOver`: why its handover ended. */
  | { kind: 'unload'; unit: string; handoverOver?: string }
  /** New content for a unit we run: stop the old copy before its file is replaced. */
  | { kind: 'retire'; unit: string }
  /** Write (units in `rewrite`) and link the files of `assignments`, and read whether systemd sees them. */
  | { kind: 'install'; assignments: readonly AssignmentRecord[]; rewrite: ReadonlySet<string> }
  /** One daemon-reload, if the install left units systemd sees only after one. */
  | { kind: 'reload' }
  /** Report the units the install (or the reload) failed for, and schedule their retry. */
  | { kind: 'report-install-failures' }
  /** Bring the unit to its assigned state. `afterInstall`: only if this batch's install made it ready. */
  | { kind: 'converge'; assignment: AssignmentRecord; afterInstall: boolean }
  /** Forget cached contents that no unit here refers to. */
  | { kind: 'retain-contents' }
  /** Arm one timer for the earliest retry of a failed unit. */
  | { kind: 'arm-retry' };

/** Units on disk that are not assigned here, and whose assignment is not unreadable. */
function unassigned(i: Pick<BatchInputs, 'local' | 'desired' | 'unreadable'>): string[] {
  return [...i.local.keys()].filter((u) => !i.desired.has(u) && !i.unreadable.has(u));
}

/**
 * Pure: the units whose running state the caller must read before planning:
 * those this host had when it came back, no longer assigned here, not
 * already handed over and not bound to the lease (their switch stopped them).
 */
export function handoverCandidates(i: Omit<BatchInputs, 'running'>): string[] {
  if (i.held) return [];
  return unassigned(i).filter((u) => !i.handovers.has(u) && i.returning.has(u) && !i.bound.has(u));
}

/** Pure: the tasks of one batch, in order. Held: none at all. */
export function planBatch(i: BatchInputs): BatchTask[] {
  if (i.held) return [];
  const tasks: BatchTask[] = [];
  for (const unit of i.failures.keys()) {
    if (i.desired.has(unit) || i.unreadable.has(unit)) continue;
    // A unit never installed has no one else to remove its state.
    tasks.push({ kind: 'forget-failure', unit, removeReport: !i.local.has(unit) });
  }
  for (const unit of i.desired.keys()) if (i.handovers.has(unit)) tasks.push({ kind: 'end-handover', unit });

  const unloads: BatchTask[] = [];
  for (const unit of unassigned(i)) {
    const verdict = i.handovers.get(unit);
    if (verdict) {
      if (verdict.stop) unloads.push({ kind: 'unload', unit, handoverOver: verdict.reason });
    } else if (i.returning.has(unit) && !i.bound.has(unit) && i.running.has(unit)) {
      tasks.push({ kind: 'hand-over', unit, global: i.globals.has(unit) });
    } else {
      // OnDisconnect=stop units (their switch stopped them: at most once comes first) and units moved while we were here.
      unloads.push({ kind: 'unload', unit });
    }
  }
  // Only the first batch after a return decides about the returning units.
  if (i.returning.size > 0) tasks.push({ kind: 'returning-decided', units: [...i.returning] });
  tasks.push(...unloads);

  const due = (a: AssignmentRecord): boolean => failureDue(i.failures.get(a.unit), a, i.now);
  const rewrite = new Set<string>();
  const install: AssignmentRecord[] = [];
  for (const a of i.desired.values()) {
    const changed = i.local.get(a.unit) !== a.hash;
    if (!(changed || i.unready.has(a.unit)) || !due(a)) continue;
    install.push(a);
    if (changed) rewrite.add(a.unit);
  }
  if (install.length > 0) {
    for (const unit of rewrite) if (i.local.has(unit)) tasks.push({ kind: 'retire', unit });
    tasks.push({ kind: 'install', assignments: install, rewrite }, { kind: 'reload' }, { kind: 'report-install-failures' });
  }

  const installing = new Set(install.map((a) => a.unit));
  for (const a of i.desired.values()) {
    if (installing.has(a.unit)) {
      tasks.push({ kind: 'converge', assignment: a, afterInstall: true });
      continue;
    }
    if (i.local.get(a.unit) !== a.hash || i.unready.has(a.unit) || !due(a)) continue;
    // Carried out already, and reported as running this content: nothing to do.
    if (i.applied.get(a.unit) === a.desired && i.reported.get(a.unit) === a.hash) continue;
    tasks.push({ kind: 'converge', assignment: a, afterInstall: false });
  }
  tasks.push({ kind: 'retain-contents' }, { kind: 'arm-retry' });
  return tasks;
}

export type ConvergeAction = 'start' | 'stop' | 'adopt' | 'none';

/** Pure: what brings a unit systemd reports `active` to the assigned state. */
export function convergeAction(desired: AssignedState, active: string): ConvergeAction {
  const running = RUNNING_STATES.has(active);
  if (desired === 'launched') return running ? 'adopt' : 'start';
  return running ? 'stop' : 'none';
}
