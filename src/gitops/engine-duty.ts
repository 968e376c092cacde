/**
 * The one entry point the elected engine calls for sources: follow pull
 * sources (pull-duty.ts), then drive every running rollout one pass
 * (rollout/driver.ts). Leader only; every write carries the fence the
 * engine gives. Returns when to call again; calling earlier is harmless
 * (a pass with nothing to do writes nothing).
 *
 *   const duty = gitopsDuty({ registry, cacheDir, ssh, fence, log });
 *   // on the leader, after winning the election, and again at nextWakeAt:
 *   const { nextWakeAt, inflight } = await duty.run(Date.now());
 *   // (a state report of a unit in `inflight` is worth calling again at once)
 *   // on losing the lead or stopping: stop calling run, then
 *   await duty.settled();
 */
import type { Registry } from '../registry/registry.js';
import type { Condition } from '../registry/txn.js';
import { type DriverDeps, driveRollouts } from '../rollout/driver.js';
import { errorMessage } from '../util/errors.js';
import { type FetchSource, type SshCredentials, gitFetcher, pruneFetchCache } from './pull.js';
import { type PullDutyDeps, type PullLog, PullSchedule, runPullDuty } from './pull-duty.js';

/** The longest the engine should wait between calls when nothing is due (sources may be added meanwhile). */
export const GITOPS_IDLE_WAKE_MS = 30_000;
const PULL_RETRY_MS = 5000;
const ROLLOUT_RETRY_MS = 1000;

export interface GitopsDutyConfig {
  /** The cluster's registry: the duty uses its source and rollout stores. */
  registry: Registry;
  /** Where fetched repositories are cached on this host (e.g. <state dir>/git-cache). */
  cacheDir: string;
  /** flotillad's config: the SSH key file and known_hosts file for pull sources. */
  ssh?: SshCredentials;
  /** The election fence, read at each write: [when.createdAt(<own candidate key>, <its create revision>)]. */
  fence: () => readonly Condition[];
  log: PullLog;
  /** Injected in tests; default: git into cacheDir with `ssh`. */
  fetch?: FetchSource;
}

export interface DutyPass {
  nextWakeAt: number;
  /**
   * Units a rollout has replaced and waits on to be healthy. A state report
   * of one of them may let the rollout go on: the caller may run a pass at
   * once rather than at nextWakeAt.
   */
  inflight: readonly string[];
}

export interface GitopsDuty {
  /**
   * One pass at `now` (ms): drives every running rollout, and starts a pull
   * pass in the background when one is due (a slow fetch must not hold up
   * rollouts). Resolves with the time to call again.
   */
  run(now: number): Promise<DutyPass>;
  /** Resolves when no pull pass is running (call on losing the lead or shutting down; fenced writes make it safe either way). */
  settled(): Promise<void>;
}

export function gitopsDuty(c: GitopsDutyConfig): GitopsDuty {
  const pull: PullDutyDeps = {
    store: c.registry.sourceStore(),
    fetch: c.fetch ?? gitFetcher({ cacheDir: c.cacheDir, ...(c.ssh ? { ssh: c.ssh } : {}) }),
    ...(c.fetch ? {} : { pruneCache: (keep: readonly string[]) => pruneFetchCache(c.cacheDir, keep) }),
    fence: c.fence,
    log: c.log,
    // Pacing only: a new leader makes a new duty and fetches each source once at once.
    schedule: new PullSchedule(),
  };
  const rollouts: DriverDeps = { store: c.registry.rolloutStore(), fence: c.fence, log: c.log };
  let pulling: Promise<void> | undefined;
  let pullDueAt = 0;
  return {
    async run(now) {
      if (pulling === undefined && now >= pullDueAt) {
        pulling = runPullDuty(pull, now)
          .then((r) => void (pullDueAt = Math.min(r.nextWakeAt ?? Infinity, Date.now() + GITOPS_IDLE_WAKE_MS)))
          .catch((err: unknown) => {
            c.log.warn({ err: errorMessage(err) }, 'pull duty failed; retrying');
            pullDueAt = Date.now() + PULL_RETRY_MS;
          })
          .finally(() => void (pulling = undefined));
      }
      let next = now + GITOPS_IDLE_WAKE_MS;
      let inflight: readonly string[] = [];
      try {
        const r = await driveRollouts(rollouts, now);
        if (r.nextWakeAt !== undefined) next = Math.min(next, r.nextWakeAt);
        inflight = r.inflight;
      } catch (err) {
        c.log.warn({ err: errorMessage(err) }, 'rollout pass failed; retrying');
        next = Math.min(next, now + ROLLOUT_RETRY_MS);
      }
      // While a pull pass runs, look again soon: it may have started a rollout.
      next = Math.min(next, pulling !== undefined ? now + ROLLOUT_RETRY_MS : pullDueAt);
      return { nextWakeAt: Math.max(next, now), inflight };
    },
    async settled() {
      while (pulling !== undefined) await pulling;
    },
  };
}
