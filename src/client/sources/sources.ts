/**
 * Source definitions: `flotctl sources`, `source add` (a pull source the
 * engine will follow) and `source remove` (stop following; with --prune,
 * destroy what the source owns first).
 */
import type { InventoryRecord, SourceRecord, SourceStatusRecord } from '../../registry/records.js';
import type { SourceListing } from '../../registry/source-store.js';
import { repositoryIdentity, validateSourceName } from '../../gitops/source-name.js';
import { parseDuration } from '../../util/duration.js';
import { InvalidInputError } from '../../util/errors.js';
import type { OperationContext } from '../operations/context.js';
import { waitForStatesGone } from '../operations/waits.js';
import type { SourceClient } from './source-client.js';

export interface SourceView {
  name: string;
  definition: SourceRecord | undefined;
  status: SourceStatusRecord | undefined;
  units: number;
}

export function listSourceViews(l: SourceListing): SourceView[] {
  const names = new Set([...l.definitions.map((d) => d.name), ...l.statuses.keys(), ...l.owned.keys()]);
  const byName = new Map(l.definitions.map((d) => [d.name, d]));
  return [...names].sort().map((name) => ({ name, definition: byName.get(name), status: l.statuses.get(name), units: l.owned.get(name) ?? 0 }));
}

/** Who owns each unit, for list-unit-files. Should a unit have two entries (a store written by hand), the first source by name wins. */
export function ownersByUnit(entries: readonly InventoryRecord[]): Map<string, InventoryRecord> {
  const out = new Map<string, InventoryRecord>();
  for (const e of entries) {
    const prev = out.get(e.unit);
    if (!prev || e.source < prev.source) out.set(e.unit, e);
  }
  return out;
}

export interface AddSourceOptions {
  name: string;
  url: string;
  branch?: string;
  path?: string;
  interval?: string;
  prune: boolean;
}

export const DEFAULT_INTERVAL_MS = 60_000;
const MIN_INTERVAL_MS = 5_000;

/** A pull source's definition from flags, every value checked. */
export function pullSourceRecord(o: AddSourceOptions, at: string): SourceRecord {
  const name = validateSourceName(o.name);
  const url = validateRepositoryUrl(o.url);
  const path = validateRepositoryPath(o.path ?? '');
  const intervalMs = o.interval === undefined ? DEFAULT_INTERVAL_MS : parseDuration(o.interval, '--interval');
  if (intervalMs < MIN_INTERVAL_MS) throw new InvalidInputError(`invalid --interval ${JSON.stringify(o.interval)}: follow a repository at most every ${MIN_INTERVAL_MS / 1000}s`);
  const r: SourceRecord = { name, mode: 'pull', repository: repositoryIdentity(url, url), path, url, intervalMs, prune: o.prune, createdAt: at };
  if (o.branch !== undefined) r.branch = validateBranch(o.branch);
  return r;
}

export function validateRepositoryUrl(url: string): string {
  const bad = (why: string): InvalidInputError => new InvalidInputError(`invalid repository URL ${JSON.stringify(url)}: ${why}`);
  if (url === '' || url.length > 2048 || /[\s\0]/.test(url)) throw bad('give a git URL, e.g. https://github.com/acme/infra.git or git@github.com:acme/infra.git');
  if (url.startsWith('-')) throw bad('it must not start with "-"');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw bad('it does not parse as a URL');
    }
    if (!['https:', 'http:', 'ssh:', 'git:', 'file:'].includes(u.protocol)) throw bad(`scheme ${u.protocol.slice(0, -1)} is not one git fetches over here (use https, http, ssh, git or file)`);
    if (u.password !== '') throw bad('credentials do not belong in the source definition (everyone who can read the cluster store sees it): keep them on the hosts');
    return url;
  }
  if (url.startsWith('/') || /^[^@/]+@[^:/]+:./.test(url) || /^[^:/]+:[^/]/.test(url)) return url;
  throw bad('give an absolute path or a URL, e.g. https://github.com/acme/infra.git');
}

export function validateRepositoryPath(path: string): string {
  const p = path.replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (p === '' || p === '.') return '';
  if (p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '') || /[\0\n]/.test(p) || p.length > 1024) {
    throw new InvalidInputError(`invalid --path ${JSON.stringify(path)}: give a directory inside the repository, e.g. units/prod`);
  }
  return p;
}

/** Rules of git check-ref-format that matter here. */
export function validateBranch(branch: string): string {
  if (branch === '' || branch.length > 255 || branch.startsWith('-') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.lock') || /\.\.|@\{|[\s~^:?*[\\\0]|\/\/|^\.|\/\./.test(branch)) {
    throw new InvalidInputError(`invalid --branch ${JSON.stringify(branch)}: give a branch name, e.g. main`);
  }
  return branch;
}

/** Checked here first, so bad flags fail the same with the cluster down; the SourceClient checks them again. */
export async function addSource(sources: SourceClient, o: AddSourceOptions): Promise<SourceRecord> {
  pullSourceRecord(o, new Date().toISOString());
  return sources.addSource(o);
}

export interface RemoveResult {
  destroyed: string[];
  /** Units left in the cluster, owned by no source now. */
  released: number;
}

export async function removeSource(ctx: OperationContext, sources: SourceClient, name: string, opts: { prune: boolean; attempts: number }): Promise<RemoveResult> {
  validateSourceName(name);
  const r = await sources.removeSource(name, opts.prune);
  if (r.destroyed.length > 0) await waitForStatesGone(ctx, r.destroyed, opts.attempts, (n) => ctx.sink.out(`Destroyed ${n}`));
  return r;
}
