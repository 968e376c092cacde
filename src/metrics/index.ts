/** What flotillad and the API router use of the metrics. */
export { FlotillaMetrics } from './instruments.js';
export { observeDaemon, type DaemonMetrics, type DaemonParts } from './daemon.js';
export { timedUnitManager } from './sources.js';
export { metricsHandler, parseListenAddress, startMetricsListener, type MetricsListener } from './http.js';
