/**
 * The cluster-wide figures (placement latency, units by machine and state)
 * need the unit records and the states of every machine. Only the leading
 * engine keeps them: one copy per cluster, not one per host, and no polling:
 * one range read each when leadership starts, then the watches' changes.
 * Deposed, it lets go of both.
 */
import type { MetricsStore } from '../registry/metrics-store.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import type { UnitRecord, UnitStateRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { FlotillaMetrics } from './instruments.js';
import { PlacementClock, unitCensus } from './placement-clock.js';

export class LeaderView {
  private units: PrefixCache<UnitRecord> | undefined;
  private states: PrefixCache<UnitStateRecord> | undefined;
  private readonly clock = new PlacementClock();
  /** Bumped on every start/stop, so a start that finishes after a stop closes what it opened. */
  private generation = 0;

  constructor(
    private readonly store: MetricsStore,
    private readonly metrics: FlotillaMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): boolean {
    return this.states !== undefined;
  }

  async start(): Promise<void> {
    await this.stop();
    const generation = ++this.generation;
    const units = this.store.allUnitRecords(this.log);
    const states = this.store.allUnitStates(this.log);
    units.onChange((c) => {
      if (c.type === 'put') this.clock.unitWritten(c.entry.value.name, c.entry.value, c.previous?.value, this.now());
      else if (c.type === 'delete') {
        const name = this.store.keys.unitOfKey(c.key);
        if (name) this.clock.unitWritten(name, undefined, c.previous?.value, this.now());
      }
    });
    states.onChange((c) => {
      if (c.type !== 'put') return;
      const seconds = this.clock.stateWritten(c.entry.value, this.now());
      if (seconds !== undefined) this.metrics.placementLatency.observe(seconds);
    });
    try {
      await units.start();
      await states.start();
    } catch (err) {
      await Promise.all([units.close(), states.close()]);
      this.log.warn({ err: errorMessage(err) }, 'metrics: reading unit records and states for the cluster figures failed; they stay empty until the next leadership');
      return;
    }
    if (generation !== this.generation) {
      await Promise.all([units.close(), states.close()]);
      return;
    }
    this.units = units;
    this.states = states;
  }

  async stop(): Promise<void> {
    this.generation++;
    const { units, states } = this;
    this.units = undefined;
    this.states = undefined;
    this.clock.clear();
    await Promise.all([units?.close(), states?.close()]);
  }

  /** Units by machine and state now; undefined when not leading. */
  census(): Map<string, Map<string, number>> | undefined {
    const states = this.states;
    if (!states) return undefined;
    return unitCensus([...states.values()].map((e) => e.value));
  }
}
