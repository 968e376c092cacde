/**
 * The Prometheus instruments of one flotillad, on a Registry of its own (not
 * prom-client's global one: tests and the dev cluster run several daemons in
 * one process, and each must report only its own figures).
 *
 * Nothing here polls. Counters move on events the roles already emit;
 * figures the roles already keep (the engine's round totals, the leader's
 * copy of unit states) are read in `collect`, i.e. only when scraped. The
 * process defaults sample the event loop delay once a second instead of
 * prom-client's every 10 ms: measured idle, 10 ms costs ~0.06 % CPU more
 * than none at all, 1 s is within noise (~0.015 %).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Figures read at scrape time from whoever keeps them (see sources.ts). */
export interface ScrapeSources {
  /** Engine totals since this process started; undefined when there is no engine role. */
  engineTotals?: () => EngineTotals | undefined;
  /** Units by (machine, active state), from the leading engine's view; undefined when not leading. */
  unitCensus?: () => ReadonlyMap<string, ReadonlyMap<string, number>> | undefined;
  /** 1 while this flotillad's engine leads. */
  leading?: () => boolean;
}

export interface EngineTotals {
  rounds: number;
  unitsOffered: number;
  bids: number;
  unitsPlaced: number;
  unitsMoved: number;
  unitsUnplaced: number;
  etcdRequests: number;
  /** Placed by a step without a round (content with nothing for a host to check). */
  unitsPlacedDirectly: number;
  fencedWritesRejected: number;
}

/** Seconds; placement is a round (~0.3 s) plus a start, failover adds a lease TTL. */
const PLACEMENT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 90];
/** Renewals come every TTL/3; a gap towards 2/3 TTL means the agent is about to hold. */
const GAP_BUCKETS = [0.5, 1, 2, 3, 5, 10, 20, 30, 60];
/** A keepalive answers in about a millisecond on a healthy etcd; seconds mean trouble. */
const RTT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class FlotillaMetrics {
  readonly registry = new Registry();
  private sources: ScrapeSources = {};

  readonly placementLatency = new Histogram({
    name: 'flotilla_placement_latency_seconds',
    help: 'From a unit record written with desired state launched (new, started, or new content) to its state active on a machine, as the leading engine sees the two writes.',
    buckets: PLACEMENT_BUCKETS,
    registers: [this.registry],
  });

  readonly leaseRenewals = new Counter({
    name: 'flotilla_lease_renewals_total',
    help: 'Keepalives of the presence lease that etcd confirmed.',
    registers: [this.registry],
  });

  readonly leaseRenewalGap = new Histogram({
    name: 'flotilla_lease_renewal_gap_seconds',
    help: 'Time between two confirmed renewals of the presence lease (nominally TTL/3; the agent holds at 2/3 TTL).',
    buckets: GAP_BUCKETS,
    registers: [this.registry],
  });

  readonly leaseRoundTrip = new Histogram({
    name: 'flotilla_lease_keepalive_seconds',
    help: 'Round trip of each confirmed keepalive of the presence lease, from the request written to etcd\'s answer.',
    buckets: RTT_BUCKETS,
    registers: [this.registry],
  });

  readonly holds = new Counter({
    name: 'flotilla_agent_holds_total',
    help: 'Times the agent stopped acting on its assignments: cause="silent" (etcd has not confirmed the lease for 2/3 TTL), cause="lost" (etcd says it expired).',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  readonly held = new Gauge({
    name: 'flotilla_agent_held',
    help: '1 while the agent holds (lease silent or lost), 0 once etcd confirms a lease again.',
    registers: [this.registry],
  });

  readonly leaseChanges = new Counter({
    name: 'flotilla_lease_acquired_total',
    help: 'Presence leases this flotillad registered its machine on (1 at start; each more is a re-registration after a lost lease).',
    registers: [this.registry],
  });

  readonly leadership = new Counter({
    name: 'flotilla_engine_leadership_changes_total',
    help: 'Engine leadership acquired (change="elected") or lost (change="deposed") by this flotillad.',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });

  readonly systemdJobs = new Histogram({
    name: 'flotilla_systemd_job_duration_seconds',
    help: 'systemd calls of the agent, by operation (start, stop, restart, reload, link, disable) and result (done, failed, timeout, canceled, dependency, skipped, error).',
    labelNames: ['operation', 'result'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly reconcileBatches = new Histogram({
    name: 'flotilla_agent_reconcile_batch_seconds',
    help: "The agent's reconcile batches (read, plan, then write files, reload, start and stop): how long each took.",
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  readonly etcdErrors = new Counter({
    name: 'flotilla_etcd_request_errors_total',
    help: 'etcd requests that failed (each failed attempt of a retried request counts), by error class.',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });

  constructor() {
    const self = this;
    const totals = (): EngineTotals | undefined => self.sources.engineTotals?.();
    const engineCounter = (name: string, help: string, pick: (t: EngineTotals) => number): void => {
      let seen = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const t = totals();
          if (!t) return;
          // Add what the source counted since the last scrape; a source that
          // starts again from 0 (a new engine) is counted on from there.
          const now = pick(t);
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    };
    engineCounter('flotilla_engine_rounds_total', 'Offer/bid rounds this engine resolved.', (t) => t.rounds);
    engineCounter('flotilla_engine_round_units_total', 'Units offered, summed over resolved rounds (divide by rounds_total for the mean round size).', (t) => t.unitsOffered);
    engineCounter('flotilla_engine_bids_total', 'Bids received, summed over resolved rounds (divide by rounds_total for bids per round).', (t) => t.bids);
    engineCounter('flotilla_engine_units_placed_total', 'Units the engine assigned to a machine, through a round or directly.', (t) => t.unitsPlaced + t.unitsPlacedDirectly);
    engineCounter('flotilla_engine_units_placed_directly_total', 'Units placed without a round: content with nothing for a host to check.', (t) => t.unitsPlacedDirectly);
    engineCounter('flotilla_engine_fenced_writes_rejected_total', 'Engine writes the election fence refused: this engine had been deposed and stepped down; nothing was written.', (t) => t.fencedWritesRejected);
    engineCounter('flotilla_engine_units_moved_total', 'Units the engine moved to another machine.', (t) => t.unitsMoved);
    engineCounter('flotilla_engine_units_unplaced_total', 'Times a round left a unit without a machine.', (t) => t.unitsUnplaced);
    engineCounter('flotilla_engine_etcd_requests_total', 'etcd requests the engine made while leading.', (t) => t.etcdRequests);
    new Gauge({
      name: 'flotilla_engine_leader',
      help: '1 while this flotillad\'s engine leads the cluster. Cluster-wide figures (flotilla_units, placement latency) come from the leader.',
      registers: [this.registry],
      collect() {
        this.set(self.sources.leading?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'flotilla_units',
      help: 'Units by machine and systemd active state (active, failed, inactive, activating, ...), as published by the agents; served by the leading engine only.',
      labelNames: ['machine', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const census = self.sources.unitCensus?.();
        if (!census) return;
        for (const [machine, byState] of census) {
          for (const [state, n] of byState) this.set({ machine, state }, n);
        }
      },
    });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
  }

  /** Who to ask for the figures read at scrape time (call again to add or replace). */
  readFrom(sources: ScrapeSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The exposition text and its content type, as an HTTP answer needs them. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
