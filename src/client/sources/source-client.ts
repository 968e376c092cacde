/**
 * What the source commands (diff, sync, sources, source add/remove,
 * list-unit-files' provenance) ask of the cluster. Deliberately not raw
 * store access: the caller sends what it read (the directory's entries and
 * origin, a pull source's flags) and the implementation plans and writes.
 * Two implementations share every rule: StoreSourceClient (store-sources.ts)
 * runs the plan and its fenced transactions against etcd, in flotctl for the
 * etcd driver and in flotillad behind /flotilla/v1 for the API driver;
 * ApiSourceClient (api-sources.ts) sends the same requests over the API.
 * So an API caller can never hand flotillad a transaction (bodies are
 * untrusted): the daemon computes every write itself.
 */
import type { SourceOrigin } from '../../gitops/source-dir.js';
import type { TreeEntry } from '../../gitops/tree.js';
import type { InventoryRecord, RolloutPacing, RolloutRecord, SourceRecord } from '../../registry/records.js';
import type { RolloutUnit } from '../../rollout/rollout.js';
import type { DiffReport } from './diff-report.js';
import type { AddSourceOptions, RemoveResult, SourceView } from './sources.js';

/** A directory as read by the client: what diff and sync send. */
export interface SyncManifest {
  /** --source NAME; the origin's default name otherwise. */
  source?: string;
  origin: SourceOrigin;
  /** The directory's entries as tree.ts lists them; the planner parses them (parseTree) itself. */
  entries: TreeEntry[];
  prune: boolean;
  allowEmpty: boolean;
  adopt: boolean;
}

/** What a sync wrote, and what the client must follow. */
export interface AppliedSync {
  report: DiffReport;
  /** Transactions the writes took. */
  steps: number;
  /** Units left to the engine's rollout. */
  rolled: string[];
  /** Units the client carries to health at once (not in `rolled`). */
  units: RolloutUnit[];
  /** Units destroyed (with --prune): the client waits for them to leave their hosts. */
  destroyed: string[];
}

export interface SourceClient {
  /** The plan against the cluster, with the unified diffs of replaced units. Writes nothing. */
  diff(m: SyncManifest): Promise<AppliedSync['report']>;
  /** Plans and writes; throws SyncRaceError (or its message, over the API) when the cluster changed. */
  sync(m: SyncManifest, rollout: RolloutPacing): Promise<AppliedSync>;
  /** The source's rollout record, for following the engine's rollout. */
  rolloutRecord(source: string): Promise<RolloutRecord | undefined>;
  listSources(): Promise<SourceView[]>;
  /** Stores a pull source's definition; fails (exit 1) if the name is taken. */
  addSource(o: AddSourceOptions): Promise<SourceRecord>;
  /** Forgets a source (with prune: destroys its units first); fails (exit 1) if there is none. Does not wait. */
  removeSource(name: string, prune: boolean): Promise<RemoveResult>;
  listInventory(): Promise<InventoryRecord[]>;
}
