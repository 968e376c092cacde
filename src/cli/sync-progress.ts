/**
 * The progress of a sync's rollout, through the output layer. On a terminal:
 * a live block with one line per unit in flight and the counts done/left,
 * and a permanent line as each unit finishes. Otherwise (pipes, CI, tests)
 * just the permanent lines, one per unit as it finishes. Units queued in a
 * rolling replace count as left, and show once their turn comes.
 */
import type { RolloutEvent } from '../rollout/rollout.js';
import type { LiveRegion, Output } from './output.js';

export interface ProgressState {
  total: number;
  done: number;
  failed: number;
  /** unit -> what it is doing, in the order units started. */
  inFlight: Map<string, string>;
}

/** The live block: a counts line, then one line per unit in flight (at most `max`, then "... and N more"). */
export function progressLines(s: ProgressState, max = 20): string[] {
  const left = s.total - s.done - s.failed;
  const lines = [`Rolling out ${s.total} unit${s.total === 1 ? '' : 's'}: ${s.done} done, ${s.failed > 0 ? `${s.failed} failed, ` : ''}${left} left`];
  let shown = 0;
  for (const [unit, detail] of s.inFlight) {
    if (shown++ === max) {
      lines.push(`  ... and ${s.inFlight.size - max} more`);
      break;
    }
    lines.push(`  ${unit}: ${detail}`);
  }
  return lines;
}

/** The permanent line of a finished unit. */
export function finishedLine(e: RolloutEvent): string {
  return e.phase === 'healthy' ? `Unit ${e.unit} healthy: ${e.detail}` : `Unit ${e.unit} failed: ${e.detail}`;
}

export class SyncProgress {
  private readonly state: ProgressState;
  /** Rolled units whose turn has not come: counted as left, not shown. */
  private readonly queued: Set<string>;

  private constructor(
    private readonly output: Output,
    private readonly live: LiveRegion | undefined,
    units: readonly string[],
    queued: readonly string[],
  ) {
    this.state = { total: units.length + queued.length, done: 0, failed: 0, inFlight: new Map(units.map((u) => [u, 'waiting for the cluster'])) };
    this.queued = new Set(queued);
  }

  /** `units` are in flight at once; `queued` enter when their first 'waiting' event comes. */
  static async open(output: Output, units: readonly string[], queued: readonly string[] = []): Promise<SyncProgress> {
    const p = new SyncProgress(output, units.length + queued.length > 0 ? await output.liveRegion() : undefined, units, queued);
    p.draw();
    return p;
  }

  event(e: RolloutEvent): void {
    if (e.phase === 'waiting') {
      if (this.state.inFlight.has(e.unit) || this.queued.delete(e.unit)) this.state.inFlight.set(e.unit, e.detail);
    } else {
      this.state.inFlight.delete(e.unit);
      this.queued.delete(e.unit);
      if (e.phase === 'healthy') this.state.done++;
      else this.state.failed++;
      if (this.live) this.live.persist(finishedLine(e));
      else this.output.out(finishedLine(e));
    }
    this.draw();
  }

  close(): void {
    if (!this.live) return;
    this.live.update([]);
    this.live.close();
  }

  private draw(): void {
    if (this.live && this.state.total > 0) this.live.update(progressLines(this.state));
  }
}
