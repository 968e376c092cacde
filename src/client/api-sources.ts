/**
 * SourceClient over flotillad's API (src/api/source-routes.ts): the same
 * requests the etcd driver's StoreSourceClient serves in-process, planned
 * and written by flotillad with that same code. A 412 is a failure of what
 * was asked (exit 1, as with the etcd driver).
 */
import type { InventoryRecord, RolloutPacing, RolloutRecord, SourceRecord } from '../registry/records.js';
import { fail } from './operations/errors.js';
import type { ApiClusterClient } from './api-client.js';
import { ApiRequestError, type ApiTransport } from './api-transport.js';
import type { AppliedSync, SourceClient, SyncManifest } from './sources/source-client.js';
import type { AddSourceOptions, RemoveResult, SourceView } from './sources/sources.js';

const BASE = '/flotilla/v1';

export class ApiSourceClient implements SourceClient {
  private readonly http: ApiTransport;

  constructor(client: ApiClusterClient) {
    this.http = client.transport;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return (await this.http.request(method, path, body)).body as T;
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 412) throw fail(err.message);
      throw err;
    }
  }

  diff(m: SyncManifest): Promise<AppliedSync['report']> {
    return this.call('POST', `${BASE}/diff`, { manifest: m });
  }

  sync(m: SyncManifest, rollout: RolloutPacing): Promise<AppliedSync> {
    const { maxParallel, minHealthyMs, healthyDeadlineMs, autoRevert } = rollout;
    return this.call('POST', `${BASE}/sync`, { manifest: m, rollout: { maxParallel, minHealthyMs, healthyDeadlineMs, autoRevert } });
  }

  async rolloutRecord(source: string): Promise<RolloutRecord | undefined> {
    try {
      return await this.call<RolloutRecord>('GET', `${BASE}/sources/${encodeURIComponent(source)}/rollout`);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  async listSources(): Promise<SourceView[]> {
    return (await this.call<{ sources: SourceView[] }>('GET', `${BASE}/sources`)).sources;
  }

  addSource(o: AddSourceOptions): Promise<SourceRecord> {
    return this.call('POST', `${BASE}/sources`, o);
  }

  removeSource(name: string, prune: boolean): Promise<RemoveResult> {
    return this.call('DELETE', `${BASE}/sources/${encodeURIComponent(name)}${prune ? '?prune=true' : ''}`);
  }

  async listInventory(): Promise<InventoryRecord[]> {
    return (await this.call<{ inventory: InventoryRecord[] }>('GET', `${BASE}/inventory`)).inventory;
  }
}
