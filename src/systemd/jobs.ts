/**
 * Matches systemd jobs (returned by StartUnit/StopUnit as an object path)
 * with their JobRemoved signals.
 *
 * The signal can overtake the method reply: with many concurrent starts a
 * few JobRemoved arrive before the reply that names their job. So results
 * are remembered by job path for a while, and a reply first looks there.
 * Results are kept even after a waiter took them, because systemd merges a
 * second start of the same unit into the already queued job and hands both
 * callers the same job path.
 */

export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped';

const KNOWN_RESULTS: ReadonlySet<string> = new Set(['done', 'canceled', 'timeout', 'failed', 'dependency', 'skipped']);

export function toJobResult(raw: string): JobResult {
  // 'invalid' and 'unsupported' (and anything newer systemds add) did not
  // run the unit; for a caller that means the same as failed.
  return KNOWN_RESULTS.has(raw) ? (raw as JobResult) : 'failed';
}

interface Waiter {
  resolve: (r: JobResult) => void;
  reject: (err: Error) => void;
}

export interface JobTrackerOptions {
  /** How long a result nobody has asked for yet is kept. */
  keepMs?: number;
  /** Upper bound on remembered results: most JobRemoved belong to jobs
   *  other clients or dependencies started, which no one will ask for. */
  maxKept?: number;
  now?: () => number;
}

export class JobTracker {
  private readonly waiters = new Map<string, Waiter[]>();
  // Insertion order == arrival order, so expiry only ever looks at the head.
  private readonly results = new Map<string, { result: JobResult; at: number }>();
  private readonly keepMs: number;
  private readonly maxKept: number;
  private readonly now: () => number;
  /** Jobs whose JobRemoved overtook the method reply (for tests and metrics). */
  overtaken = 0;

  constructor(opts: JobTrackerOptions = {}) {
    this.keepMs = opts.keepMs ?? 60_000;
    this.maxKept = opts.maxKept ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Feed a JobRemoved signal. */
  removed(jobPath: string, rawResult: string): void {
    const result = toJobResult(rawResult);
    this.expire();
    this.results.delete(jobPath); // re-insert at the tail
    this.results.set(jobPath, { result, at: this.now() });
    const ws = this.waiters.get(jobPath);
    if (ws) {
      this.waiters.delete(jobPath);
      for (const w of ws) w.resolve(result);
    }
  }

  /** Wait for the job a method reply named. */
  wait(jobPath: string): Promise<JobResult> {
    const known = this.results.get(jobPath);
    if (known) {
      this.overtaken++;
      return Promise.resolve(known.result);
    }
    return new Promise((resolve, reject) => {
      const ws = this.waiters.get(jobPath) ?? [];
      ws.push({ resolve, reject });
      this.waiters.set(jobPath, ws);
    });
  }

  /** Fail every outstanding wait: the signals they need will never come. */
  failAll(err: Error): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    this.results.clear();
    for (const w of all) w.reject(err);
  }

  get waiting(): number {
    let n = 0;
    for (const ws of this.waiters.values()) n += ws.length;
    return n;
  }

  get kept(): number {
    return this.results.size;
  }

  private expire(): void {
    const cutoff = this.now() - this.keepMs;
    for (const [path, r] of this.results) {
      if (r.at >= cutoff && this.results.size < this.maxKept) break;
      this.results.delete(path);
    }
  }
}
