/**
 * All of a flotillad's metrics wiring in one call, so flotillad.ts needs
 * three lines: make the FlotillaMetrics, wrap the systemd manager it hands
 * the agent (timedUnitManager), and call observeDaemon once the roles exist.
 */
import type { EventEmitter } from 'node:events';
import type { PresenceEvents } from '../agent/presence.js';
import type { ElectionEvents } from '../engine/election.js';
import type { EngineStats } from '../engine/stats.js';
import type { MetricsStore } from '../registry/metrics-store.js';
import type { Logger } from '../util/log.js';
import type { FlotillaMetrics } from './instruments.js';
import { startMetricsListener, type MetricsListener } from './http.js';
import { LeaderView } from './leader-view.js';
import { observeAgent, observeElection, observeEngine, observeEtcdErrors, observePresence } from './sources.js';
import type { AgentEvents } from '../agent/agent.js';

export interface DaemonParts {
  /** metricsStoreOver(the daemon's registry). */
  store: MetricsStore;
  log: Logger;
  presence: EventEmitter<PresenceEvents>;
  /** The agent's reconcile batches. */
  agent?: EventEmitter<AgentEvents>;
  /** Absent when the engine role is disabled. */
  engine?: { readonly stats: EngineStats; readonly leading: boolean };
  election?: EventEmitter<ElectionEvents>;
  /** Config `metrics_address` (HOST:PORT); absent: only the API listeners serve /metrics. */
  metricsAddress?: string;
}

export interface DaemonMetrics {
  /** The metrics listener, if one was asked for. */
  readonly listener: MetricsListener | undefined;
  stop(): Promise<void>;
}

/** Subscribe every source; call before the agent starts so its first lease is counted. */
export async function observeDaemon(metrics: FlotillaMetrics, parts: DaemonParts): Promise<DaemonMetrics> {
  const log = parts.log.child({ role: 'metrics' });
  observePresence(metrics, parts.presence);
  if (parts.agent) observeAgent(metrics, parts.agent);
  observeEtcdErrors(metrics, parts.store);
  const view = parts.election ? new LeaderView(parts.store, metrics, log) : undefined;
  if (parts.engine) observeEngine(metrics, parts.engine);
  if (parts.election) observeElection(metrics, parts.election, view);
  const listener = parts.metricsAddress ? await startMetricsListener(parts.metricsAddress, metrics) : undefined;
  if (listener) log.info({ address: `${listener.address.host}:${listener.address.port}` }, 'serving /metrics');
  return {
    listener,
    async stop() {
      await listener?.close();
      await view?.stop();
    },
  };
}
