/**
 * The rollout seam. `flotctl sync` decides what changes and writes it (units,
 * inventory, provenance); a Rollout then carries the changed units to health
 * on their hosts and reports progress. Today's implementation follows the
 * cluster from the client (src/client/operations/follow-rollout.ts): the
 * engine applies every change at once, and the rollout watches each unit
 * until it is healthy or the healthy deadline passes. The engine-side rolling
 * replace (max-parallel at a time, gated on min-healthy-time, auto-revert,
 * progress in etcd so a leader change resumes it) will implement this same
 * interface: start the rollout, then follow its progress records.
 */
import type { DesiredState } from '../registry/records.js';
import type { HealthTraits } from './health.js';
import type { RolloutOptions } from './options.js';

export interface RolloutUnit {
  name: string;
  /** What the sync did to the unit. */
  action: 'create' | 'replace' | 'state';
  /** The content the unit must run now. */
  hash: string;
  /** For a replace: the content it ran before (what auto-revert puts back). */
  previousHash?: string;
  desired: DesiredState;
  traits: HealthTraits;
}

/** A unit changed phase; `detail` is for people ("activating on 5f0e31c2.../10.0.0.1"). */
export interface RolloutEvent {
  unit: string;
  phase: 'waiting' | 'healthy' | 'failed';
  detail: string;
}

export interface RolloutReport {
  healthy: string[];
  failed: Array<{ unit: string; reason: string }>;
  /** Units the rollout never got to (it stopped first, or following it ended first). */
  notStarted: string[];
  /** Why the rollout stopped (one line naming the unit), when it stopped on a failure. */
  stopped?: string;
}

export interface Rollout {
  /**
   * Resolves when every unit is healthy (or at its desired state, for units
   * not launched) or the rollout stopped on a failure. Throws only when the
   * cluster cannot be reached.
   */
  run(units: readonly RolloutUnit[], opts: RolloutOptions, progress: (e: RolloutEvent) => void): Promise<RolloutReport>;
}
