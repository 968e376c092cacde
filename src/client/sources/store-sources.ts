/**
 * SourceClient against the store itself: the one home of what a sync, diff
 * or source change writes. flotctl's etcd driver runs it in-process;
 * flotillad runs it behind /flotilla/v1 (src/api/source-routes.ts), so the
 * API driver's requests are planned and fenced by this same code.
 */
import { syncTxns } from '../../registry/sync-txns.js';
import type { RolloutPacing, RolloutRecord } from '../../registry/records.js';
import type { SourceStore } from '../../registry/source-store.js';
import { planSync } from '../../gitops/sync-plan.js';
import { validateSourceName } from '../../gitops/source-name.js';
import { fail } from '../operations/errors.js';
import { contentsWanted, diffReport } from './diff-report.js';
import { prepareManifest, syncWrites } from './prepare.js';
import type { AppliedSync, SourceClient, SyncManifest } from './source-client.js';
import { type AddSourceOptions, type RemoveResult, listSourceViews, pullSourceRecord } from './sources.js';
import { rolloutUnits } from './sync.js';

export type SourceStoreAccess = Pick<SourceStore, 'keys' | 'readSyncSnapshot' | 'getRollout' | 'applySync' | 'listSources' | 'getSource' | 'putSource' | 'removeSource' | 'listInventory'>;

export class StoreSourceClient implements SourceClient {
  constructor(
    private readonly store: SourceStoreAccess,
    private readonly contents: (hashes: Iterable<string>) => Promise<Map<string, string>>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async diff(m: SyncManifest): Promise<AppliedSync['report']> {
    const prepared = await prepareManifest((s) => this.store.readSyncSnapshot(s), m);
    return diffReport(prepared, m.prune, await this.contents(contentsWanted(prepared)));
  }

  async sync(m: SyncManifest, rollout: RolloutPacing): Promise<AppliedSync> {
    const prepared = await prepareManifest((s) => this.store.readSyncSnapshot(s), m);
    const report = diffReport(prepared, m.prune);
    const writes = syncWrites(prepared, this.now().toISOString(), rollout);
    const plans = syncTxns(this.store.keys, writes);
    await this.store.applySync(plans);
    const rolled = (writes.rolled ?? []).map((u) => u.name);
    const queued = new Set(rolled);
    return {
      report,
      steps: plans.length,
      rolled,
      units: rolloutUnits(prepared).filter((u) => !queued.has(u.name)),
      destroyed: prepared.plan.changes.flatMap((c) => (c.action === 'destroy' ? [c.name] : [])),
    };
  }

  /** One key, read each second while a sync follows its rollout (not the whole snapshot). */
  rolloutRecord(source: string): Promise<RolloutRecord | undefined> {
    return this.store.getRollout(validateSourceName(source));
  }

  async listSources(): ReturnType<SourceClient['listSources']> {
    return listSourceViews(await this.store.listSources());
  }

  async addSource(o: AddSourceOptions): ReturnType<SourceClient['addSource']> {
    const record = pullSourceRecord(o, this.now().toISOString());
    const existing = await this.store.getSource(record.name);
    if (existing || !(await this.store.putSource(record, 0))) {
      const was = existing?.record.mode === 'push' ? `synced from ${existing.record.repository}${existing.record.path ? `:${existing.record.path}` : ''}` : `following ${existing?.record.url ?? 'a repository'}`;
      throw fail(`source ${record.name} exists (${was}): remove it first with flotctl source remove ${record.name}, or choose another name`);
    }
    return record;
  }

  async removeSource(name: string, prune: boolean): Promise<RemoveResult> {
    validateSourceName(name);
    const snapshot = await this.store.readSyncSnapshot(name);
    const owned = snapshot.inventory.filter((e) => e.source === name);
    if (!snapshot.definition && !snapshot.status && owned.length === 0) throw fail(`no source ${name}: see flotctl sources`);
    let destroyed: string[] = [];
    if (prune) {
      const plan = planSync({ source: name, units: [], cluster: snapshot.units, inventory: snapshot.inventory, prune: true, allowEmpty: true, adopt: false });
      destroyed = plan.changes.flatMap((c) => (c.action === 'destroy' ? [c.name] : []));
      const at = this.now().toISOString();
      await this.store.applySync(syncTxns(this.store.keys, {
        source: name,
        definition: { record: snapshot.definition?.record ?? { name, mode: 'push', repository: '', path: '', createdAt: at }, revision: snapshot.definition?.revision ?? 0, changed: false },
        status: { record: snapshot.status?.record, revision: snapshot.status?.revision ?? 0 },
        applied: { commit: '', dirty: false, at },
        puts: [],
        deletes: plan.changes.flatMap((c) => (c.action === 'destroy' ? [{ name: c.name, expect: c.current.revision }] : [])),
        refresh: [],
        release: plan.released,
      }));
    }
    await this.store.removeSource(name);
    return { destroyed, released: prune ? 0 : owned.filter((e) => snapshot.units.has(e.unit)).length };
  }

  listInventory(): ReturnType<SourceClient['listInventory']> {
    return this.store.listInventory();
  }
}
