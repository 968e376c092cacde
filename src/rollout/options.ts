/**
 * How a rollout paces replacements: Nomad's `update` block, with its
 * defaults (max_parallel 1, min_healthy_time 10s, healthy_deadline 5m,
 * auto_revert false). Parsed from flags here, once, with one-line errors.
 */
import { InvalidInputError } from '../util/errors.js';
import { formatDuration, parseDuration } from '../util/duration.js';

export interface RolloutOptions {
  /** Replaced units down at once. */
  maxParallel: number;
  /** How long a replaced unit must stay healthy before the next one goes. */
  minHealthyMs: number;
  /** How long a unit may take to become healthy before the rollout stops. */
  healthyDeadlineMs: number;
  /** Put the previous content back when the rollout stops on an unhealthy unit. */
  autoRevert: boolean;
}

export const ROLLOUT_DEFAULTS: Readonly<RolloutOptions> = Object.freeze({
  maxParallel: 1,
  minHealthyMs: 10_000,
  healthyDeadlineMs: 300_000,
  autoRevert: false,
});

/** The most replacements in flight at once: far above a sane rollout, far below trouble. */
export const MAX_PARALLEL_MAX = 10_000;

export interface RolloutFlags {
  maxParallel?: string;
  minHealthyTime?: string;
  healthyDeadline?: string;
  autoRevert?: boolean;
}

export function parseMaxParallel(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PARALLEL_MAX) {
    throw new InvalidInputError(`invalid --max-parallel ${JSON.stringify(text)}: give a whole number from 1 to ${MAX_PARALLEL_MAX}`);
  }
  return Number(text);
}

/** Flags as given (strings) to options; unset flags take Nomad's defaults. */
export function rolloutOptions(flags: RolloutFlags): RolloutOptions {
  const o: RolloutOptions = { ...ROLLOUT_DEFAULTS };
  if (flags.maxParallel !== undefined) o.maxParallel = parseMaxParallel(flags.maxParallel);
  if (flags.minHealthyTime !== undefined) o.minHealthyMs = parseDuration(flags.minHealthyTime, '--min-healthy-time');
  if (flags.healthyDeadline !== undefined) o.healthyDeadlineMs = parseDuration(flags.healthyDeadline, '--healthy-deadline');
  if (flags.autoRevert === true) o.autoRevert = true;
  if (o.healthyDeadlineMs === 0) throw new InvalidInputError('invalid --healthy-deadline "0": give a duration greater than 0, e.g. 5m');
  if (o.minHealthyMs >= o.healthyDeadlineMs) {
    throw new InvalidInputError(
      `--min-healthy-time ${formatDuration(o.minHealthyMs)} must be shorter than --healthy-deadline ${formatDuration(o.healthyDeadlineMs)}: no unit could pass the gate`,
    );
  }
  return o;
}
