/**
 * Strict shapes of the source bodies (diff, sync, source add). Only the
 * shape is checked here; the rules (tree parsing, names, URLs, plan) are the
 * StoreSourceClient's, the same code the etcd driver runs. Pure.
 */
import type { AddSourceOptions } from '../client/sources/sources.js';
import type { SyncManifest } from '../client/sources/source-client.js';
import type { SourceOrigin } from '../gitops/source-dir.js';
import { TREE_LIMITS, type TreeEntry } from '../gitops/tree.js';
import type { RolloutPacing } from '../registry/records.js';
import { ApiError } from './errors.js';

/**
 * A sync body carries whole unit files: TREE_LIMITS allows far more than
 * MAX_BODY_BYTES, and JSON escaping adds to it. 32 MiB holds thousands of
 * ordinary units.
 */
export const SYNC_BODY_MAX_BYTES = 32 * 1024 * 1024;
const TEXT_MAX = 4096;

type Json = Record<string, unknown>;
const bad = (m: string): ApiError => new ApiError(400, m);

function obj(v: unknown, where: string, required: readonly string[], optional: readonly string[] = []): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`${where} must be a JSON object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) throw bad(`unknown field ${JSON.stringify(k)} in ${where}: known fields are ${[...required, ...optional].join(', ')}`);
  for (const k of required) if (o[k] === undefined) throw bad(`${where}.${k} is missing`);
  return o;
}

function str(o: Json, k: string, where: string, max = TEXT_MAX): string {
  const v = o[k];
  if (typeof v !== 'string') throw bad(`${where}.${k} must be a string`);
  if (v.length > max) throw bad(`${where}.${k} is longer than ${max} characters`);
  return v;
}

function bool(o: Json, k: string, where: string): boolean {
  if (typeof o[k] !== 'boolean') throw bad(`${where}.${k} must be true or false`);
  return o[k] as boolean;
}

function int(o: Json, k: string, where: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(`${where}.${k} must be an integer from ${min} to ${max}`);
  return v;
}

function origin(v: unknown): SourceOrigin {
  const w = 'manifest.origin';
  const o = obj(v, w, ['dir', 'git', 'repository', 'path', 'defaultName', 'commit', 'dirty', 'changed']);
  if (!Array.isArray(o.changed) || o.changed.length > TREE_LIMITS.entries || o.changed.some((c) => typeof c !== 'string' || c.length > TEXT_MAX)) throw bad(`${w}.changed must be an array of file names`);
  return {
    dir: str(o, 'dir', w), git: bool(o, 'git', w), repository: str(o, 'repository', w), path: str(o, 'path', w),
    defaultName: str(o, 'defaultName', w), commit: str(o, 'commit', w, 64), dirty: bool(o, 'dirty', w), changed: o.changed as string[],
  };
}

function entry(v: unknown, i: number): TreeEntry {
  const w = `manifest.entries[${i}]`;
  const kind = (v as Json | null)?.kind;
  if (kind === 'file') { const o = obj(v, w, ['name', 'kind', 'text']); return { name: str(o, 'name', w, 255), kind, text: str(o, 'text', w, TREE_LIMITS.fileBytes) }; }
  if (kind === 'symlink') { const o = obj(v, w, ['name', 'kind', 'target']); return { name: str(o, 'name', w, 255), kind, target: str(o, 'target', w) }; }
  if (kind === 'dir') { const o = obj(v, w, ['name', 'kind']); return { name: str(o, 'name', w, 255), kind }; }
  if (kind === 'other') { const o = obj(v, w, ['name', 'kind', 'problem']); return { name: str(o, 'name', w, 255), kind, problem: str(o, 'problem', w) }; }
  throw bad(`${w}.kind must be one of file, symlink, dir, other`);
}

export function parseManifest(v: unknown): SyncManifest {
  const w = 'manifest';
  const o = obj(v, w, ['origin', 'entries', 'prune', 'allowEmpty', 'adopt'], ['source']);
  if (!Array.isArray(o.entries)) throw bad(`${w}.entries must be an array`);
  if (o.entries.length > TREE_LIMITS.entries) throw bad(`${w}.entries holds more than ${TREE_LIMITS.entries} entries`);
  const m: SyncManifest = { origin: origin(o.origin), entries: o.entries.map(entry), prune: bool(o, 'prune', w), allowEmpty: bool(o, 'allowEmpty', w), adopt: bool(o, 'adopt', w) };
  if (o.source !== undefined) m.source = str(o, 'source', w);
  return m;
}

export function parseDiffBody(v: unknown): SyncManifest {
  return parseManifest(obj(v, 'body', ['manifest']).manifest);
}

export function parseSyncBody(v: unknown): { manifest: SyncManifest; rollout: RolloutPacing } {
  const o = obj(v, 'body', ['manifest', 'rollout']);
  const r = obj(o.rollout, 'rollout', ['maxParallel', 'minHealthyMs', 'healthyDeadlineMs', 'autoRevert']);
  const MS = 2 ** 31 - 1;
  return {
    manifest: parseManifest(o.manifest),
    rollout: { maxParallel: int(r, 'maxParallel', 'rollout', 1, 10_000), minHealthyMs: int(r, 'minHealthyMs', 'rollout', 0, MS), healthyDeadlineMs: int(r, 'healthyDeadlineMs', 'rollout', 1, MS), autoRevert: bool(r, 'autoRevert', 'rollout') },
  };
}

export function parseAddSourceBody(v: unknown): AddSourceOptions {
  const w = 'body';
  const o = obj(v, w, ['name', 'url', 'prune'], ['branch', 'path', 'interval']);
  const out: AddSourceOptions = { name: str(o, 'name', w), url: str(o, 'url', w), prune: bool(o, 'prune', w) };
  for (const k of ['branch', 'path', 'interval'] as const) if (o[k] !== undefined) out[k] = str(o, k, w);
  return out;
}
