export type { ClusterClient, DesiredState, MachineSummary, MetadataChange, MetadataResult, UnitRecordView, UnitStateView, UnitSummary, Unplaced, Unsubscribe, WriteMark } from './types.js';
export { NO_LIVE_MACHINE } from './types.js';
export { parseMetadataAssignment, resolveMachine, validateMetadataChange, validateMetadataKey, validateMetadataValue } from './metadata.js';
export { type ReasonLine, formatReasonLine, reasonLines, summarizeReasons } from './reasons.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, EtcdClusterClient, type EtcdClientOptions } from './etcd-client.js';
export { StoreRefusedError, StoreUnreachableError } from './store-errors.js';
export { machineFullLegend, machineIdLegend } from './legend.js';
export * from './operations/index.js';
