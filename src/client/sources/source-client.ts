/**
 * What the source commands (diff, sync, sources, source add/remove) need of
 * the cluster store, beside ClusterClient: consistent snapshots, the sync's
 * fenced transactions, definitions and inventories. The etcd driver
 * implements it (EtcdClusterClient.sources()); every call maps store
 * outages to StoreUnavailableError like ClusterClient's.
 */
import type { Keys } from '../../registry/keys.js';
import type { InventoryRecord, SourceRecord } from '../../registry/records.js';
import type { Revisioned, SourceListing, SyncSnapshot } from '../../registry/source-store.js';
import type { TxnPlan } from '../../registry/sync-txns.js';

export interface SourceClient {
  readonly keys: Keys;
  readSyncSnapshot(source: string): Promise<SyncSnapshot>;
  /** Throws SyncRaceError when a step finds the cluster changed. */
  applySync(plans: readonly TxnPlan[]): Promise<number>;
  /** Stored unit files by hash (for diffs). */
  contents(hashes: Iterable<string>): Promise<Map<string, string>>;
  listSources(): Promise<SourceListing>;
  getSource(name: string): Promise<Revisioned<SourceRecord> | undefined>;
  putSource(record: SourceRecord, revision: number): Promise<boolean>;
  removeSource(name: string): Promise<boolean>;
  listInventory(): Promise<InventoryRecord[]>;
}
