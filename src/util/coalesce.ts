/**
 * Coalesces calls to an expensive idempotent operation: systemd's Reload
 * (50-100 ms, blocks the manager), the engine's reconcile, the agent's batch.
 *
 * Callers that arrive while no run is in flight start one. Callers that
 * arrive while a run is in flight cannot share it: it may have read the
 * unit files before they wrote theirs. They all share exactly one follow-up
 * run that starts when the current one ends. So N concurrent callers cause
 * at most two runs, and every caller's promise settles only after a run
 * that began after the caller asked.
 */
export class Coalescer {
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private runs = 0;

  constructor(private readonly op: () => Promise<void>) {}

  run(): Promise<void> {
    // Checked first: between a run settling and the follow-up starting,
    // `current` is briefly empty, and a caller then must join the follow-up
    // instead of starting a third run.
    if (this.next) return this.next;
    if (!this.current) {
      this.current = this.start();
      return this.current;
    }
    const after = this.current.then(noop, noop);
    this.next = after.then(() => {
      this.next = undefined;
      this.current = this.start();
      return this.current;
    });
    return this.next;
  }

  /** Resolves once no run is in flight or pending. */
  async idle(): Promise<void> {
    while (this.current || this.next) await (this.next ?? this.current)?.then(noop, noop);
  }

  /** Number of times op has been started: for tests and metrics. */
  get started(): number {
    return this.runs;
  }

  private start(): Promise<void> {
    this.runs++;
    const p = Promise.resolve()
      .then(() => this.op())
      .finally(() => {
        if (this.current === p) this.current = undefined;
      });
    return p;
  }
}

function noop(): void {}
