/**
 * A task run every `everyMs` (from the start of one run to the start of the
 * next; a slow run is followed at once by the next) until stopped. The
 * samplers of the cluster tests and the chaos suite all pace themselves so.
 */
export class Periodic {
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly everyMs: number,
    private readonly task: () => Promise<unknown>,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Resolves once the run in progress, if any, has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const t = Date.now();
      await this.task();
      const wait = this.everyMs - (Date.now() - t);
      if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
