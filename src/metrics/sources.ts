/**
 * Where the figures come from, without touching the roles' code: events the
 * election and the agent's presence already emit, the totals the engine
 * already keeps (read on scrape), a timing wrapper around the agent's
 * systemd manager, and the store's hook on failed requests.
 */
import type { EventEmitter } from 'node:events';
import type { UnitManager } from '../agent/unit-manager.js';
import type { EngineStats } from '../engine/stats.js';
import type { ElectionEvents } from '../engine/election.js';
import type { PresenceEvents } from '../agent/presence.js';
import type { AgentEvents } from '../agent/agent.js';
import type { MetricsStore } from '../registry/metrics-store.js';
import type { FlotillaMetrics } from './instruments.js';
import type { LeaderView } from './leader-view.js';

/** The engine's totals, read when scraped. */
export function observeEngine(metrics: FlotillaMetrics, engine: { readonly stats: EngineStats; readonly leading: boolean }): void {
  metrics.readFrom({ engineTotals: () => engine.stats.totals(), leading: () => engine.leading });
}

/** Leadership changes; while leading, the cluster-wide view runs. */
export function observeElection(metrics: FlotillaMetrics, election: EventEmitter<ElectionEvents>, view?: LeaderView): void {
  election.on('elected', () => {
    metrics.leadership.inc({ change: 'elected' });
    void view?.start();
  });
  election.on('deposed', () => {
    metrics.leadership.inc({ change: 'deposed' });
    void view?.stop();
  });
  if (view) metrics.readFrom({ unitCensus: () => view.census() });
}

/** Lease renewals, their spacing, and the holds of the agent. */
/** The agent's reconcile batches. */
export function observeAgent(metrics: FlotillaMetrics, agent: EventEmitter<AgentEvents>): void {
  agent.on('batch', (seconds) => metrics.reconcileBatches.observe(seconds));
}

export function observePresence(metrics: FlotillaMetrics, presence: EventEmitter<PresenceEvents>, now: () => number = () => performance.now()): void {
  let since: number | undefined;
  presence.on('lease', () => {
    metrics.leaseChanges.inc();
    since = now();
  });
  presence.on('renewed', (roundTripMs) => {
    const t = now();
    metrics.leaseRenewals.inc();
    metrics.leaseRoundTrip.observe(roundTripMs / 1000);
    if (since !== undefined) metrics.leaseRenewalGap.observe((t - since) / 1000);
    since = t;
    metrics.held.set(0);
  });
  presence.on('silent', () => {
    metrics.holds.inc({ cause: 'silent' });
    metrics.held.set(1);
  });
  presence.on('lost', () => {
    metrics.holds.inc({ cause: 'lost' });
    metrics.held.set(1);
    since = undefined;
  });
}

type Operation = 'start' | 'stop' | 'restart' | 'reload' | 'link' | 'disable';

/** The agent's systemd manager, with each job timed; behaviour unchanged. */
export function timedUnitManager(inner: UnitManager, metrics: FlotillaMetrics, now: () => number = () => performance.now()): UnitManager {
  async function timed<T>(operation: Operation, run: () => Promise<T>, result: (v: T) => string): Promise<T> {
    const t0 = now();
    try {
      const v = await run();
      metrics.systemdJobs.observe({ operation, result: result(v) }, (now() - t0) / 1000);
      return v;
    } catch (err) {
      metrics.systemdJobs.observe({ operation, result: 'error' }, (now() - t0) / 1000);
      throw err;
    }
  }
  const done = (): string => 'done';
  const job = (r: string): string => r;
  const wrapped: UnitManager = {
    linkUnitFiles: (paths) => timed('link', () => inner.linkUnitFiles(paths), done),
    disableUnitFiles: (names) => timed('disable', () => inner.disableUnitFiles(names), done),
    reload: () => timed('reload', () => inner.reload(), done),
    startUnit: (name) => timed('start', () => inner.startUnit(name), job),
    stopUnit: (name) => timed('stop', () => inner.stopUnit(name), job),
    restartUnit: (name) => timed('restart', () => inner.restartUnit(name), job),
    resetFailedUnit: (name) => inner.resetFailedUnit(name),
    unitStatus: (name) => inner.unitStatus(name),
    freshUnitStatuses: (names) => inner.freshUnitStatuses(names),
    onUnitChange: (listener) => inner.onUnitChange(listener),
    close: () => inner.close(),
  };
  // Optional capabilities stay optional: the agent checks for them.
  if (inner.unitResult) wrapped.unitResult = inner.unitResult.bind(inner);
  if (inner.failedCommand) wrapped.failedCommand = inner.failedCommand.bind(inner);
  return wrapped;
}

/**
 * Failed etcd requests, from the store connection's hook on them
 * (src/registry/metrics-store.ts). Returns false if the store cannot report
 * them (then the counter stays absent rather than lying at 0, see the
 * report in README).
 */
export function observeEtcdErrors(metrics: FlotillaMetrics, store: Pick<MetricsStore, 'onRequestError'>): boolean {
  const hooked = store.onRequestError((err) => {
    metrics.etcdErrors.inc({ error: err instanceof Error ? err.constructor.name : 'unknown' });
  });
  if (!hooked) metrics.registry.removeSingleMetric('flotilla_etcd_request_errors_total');
  return hooked;
}
