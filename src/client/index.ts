export type { ClusterClient, DesiredState, MachineSummary, UnitStateView, UnitSummary, Unsubscribe } from './types.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, EtcdClusterClient, type EtcdClientOptions } from './etcd-client.js';
export { StoreUnreachableError, isConnectionError, mapStoreError } from './store-errors.js';
export { machineFullLegend, machineIdLegend } from './legend.js';
export * from './operations/index.js';
