/** What the routes are built on: the client library, so every rule lives in one place. */
import type { ClusterClient } from '../client/types.js';
import type { InventoryRecord } from '../registry/records.js';
import type { SourceClient } from '../client/sources/source-client.js';

export interface ApiContext {
  client: ClusterClient;
  /** The source commands' plans and writes, run here (absent: no source routes). */
  sources?: SourceClient;
  /** Ownership and provenance of synced units (the sources' inventory). */
  inventory(): Promise<InventoryRecord[]>;
  /** Page size of /fleet/v1 lists (token_limit). */
  tokenLimit: number;
}
