/**
 * How a sync is cut into etcd transactions (pure). etcd caps the operations
 * of one transaction (--max-txn-ops, 128 by default), so:
 *
 * - A sync that fits is ONE transaction: every unit write, its inventory
 *   entry, the source's definition and its status, conditioned on every
 *   unit record and the status being as the plan saw them. All or nothing.
 * - A bigger sync is several, in an order that is safe at every cut:
 *   1. intent: the status gets `applying` (commit, step count), and the
 *      definition is created if new; conditioned on both as seen.
 *   2. steps: units in name order, each unit write in the SAME transaction
 *      as its inventory entry, so a crash never leaves a unit the source
 *      made without its ownership (at worst an entry outlives its unit, and
 *      the next sync drops it); puts before destroys (a renamed unit's
 *      successor exists before it goes).
 *      Each step is conditioned on its unit records as seen and on the
 *      status still being this sync's intent: a second sync of the source
 *      rewrites the status and so stops the first at its next step.
 *   3. done: the status records the applied commit and drops `applying`.
 * Content is immutable per hash: each new one is written once, with its
 * first unit.
 */
import type { Keys } from './keys.js';
import type { AppliedRevision, DesiredState, InventoryRecord, SourceRecord, SourceStatusRecord } from './records.js';
import { encode } from './records.js';
import { TXN_MAX_OPS } from './txn.js';

export interface UnitPut {
  name: string;
  hash: string;
  desired: DesiredState;
  /** The serialized unit, when its content key does not exist yet. */
  content?: string;
  /** Mod revision of the record as seen; 0 = the unit must not exist. */
  expect: number;
}

export interface UnitDelete {
  name: string;
  expect: number;
}

export interface SyncWrites {
  source: string;
  /** The definition to store, with the mod revision it had (0 = absent); put only when absent or changed. */
  definition: { record: SourceRecord; revision: number; changed: boolean };
  status: { record: SourceStatusRecord | undefined; revision: number };
  applied: AppliedRevision;
  puts: UnitPut[];
  deletes: UnitDelete[];
  /** Inventory entries to rewrite without touching their unit (provenance of unchanged units). */
  refresh: InventoryRecord[];
  /** Inventory entries to drop (their units are gone). */
  release: string[];
}

/** Compare a key's mod revision (0 = absent); 'intent' = the revision the intent step wrote. */
export interface Guard {
  key: string;
  revision: number | 'intent';
}

export interface TxnPlan {
  guards: Guard[];
  puts: Array<{ key: string; value: string }>;
  deletes: string[];
  /** Names of the units this step writes, for messages. */
  units: string[];
}

interface Item {
  guard?: Guard;
  puts: Array<{ key: string; value: string }>;
  deletes: string[];
  unit?: string;
}

const ops = (i: Item): number => i.puts.length + i.deletes.length;

export function syncTxns(keys: Keys, w: SyncWrites, maxOps = TXN_MAX_OPS): TxnPlan[] {
  const entry = (unit: string, hash: string): InventoryRecord => ({ source: w.source, unit, hash, commit: w.applied.commit, dirty: w.applied.dirty, at: w.applied.at });
  const items: Item[] = [];
  const written = new Set<string>();
  for (const p of [...w.puts].sort((a, b) => cmp(a.name, b.name))) {
    const puts = [];
    if (p.content !== undefined && !written.has(p.hash)) {
      written.add(p.hash);
      puts.push({ key: keys.content(p.hash), value: p.content });
    }
    puts.push({ key: keys.unit(p.name), value: encode({ name: p.name, hash: p.hash, desired: p.desired }) });
    puts.push({ key: keys.inventory(w.source, p.name), value: encode(entry(p.name, p.hash)) });
    items.push({ guard: { key: keys.unit(p.name), revision: p.expect }, puts, deletes: [], unit: p.name });
  }
  for (const d of [...w.deletes].sort((a, b) => cmp(a.name, b.name))) {
    items.push({ guard: { key: keys.unit(d.name), revision: d.expect }, puts: [], deletes: [keys.unit(d.name), keys.inventory(w.source, d.name)], unit: d.name });
  }
  for (const r of w.refresh) items.push({ puts: [{ key: keys.inventory(w.source, r.unit), value: encode({ ...r, source: w.source }) }], deletes: [] });
  for (const name of w.release) items.push({ puts: [], deletes: [keys.inventory(w.source, name)] });

  const statusKey = keys.sourceStatus(w.source);
  const definitionKey = keys.source(w.source);
  const { applying: _applying, ...rest } = w.status.record ?? { name: w.source };
  const done = { key: statusKey, value: encode({ ...rest, name: w.source, applied: w.applied } satisfies SourceStatusRecord) };
  const definitionPut = w.definition.changed || w.definition.revision === 0 ? [{ key: definitionKey, value: encode(w.definition.record) }] : [];
  const seen: Guard[] = [{ key: definitionKey, revision: w.definition.revision }, { key: statusKey, revision: w.status.revision }];

  const total = items.reduce((n, i) => n + ops(i), 0);
  const guarded = items.filter((i) => i.guard).length;
  if (total + definitionPut.length + 1 <= maxOps && guarded + seen.length <= maxOps) {
    return [{
      guards: [...seen, ...items.flatMap((i) => (i.guard ? [i.guard] : []))],
      puts: [...definitionPut, ...items.flatMap((i) => i.puts), done],
      deletes: items.flatMap((i) => i.deletes),
      units: items.flatMap((i) => (i.unit ? [i.unit] : [])),
    }];
  }

  const steps: TxnPlan[] = [];
  let current: TxnPlan | undefined;
  const intentGuard: Guard = { key: statusKey, revision: 'intent' };
  for (const item of items) {
    if (!current || current.puts.length + current.deletes.length + ops(item) > maxOps || current.guards.length + 1 > maxOps) {
      current = { guards: [intentGuard], puts: [], deletes: [], units: [] };
      steps.push(current);
    }
    if (item.guard) current.guards.push(item.guard);
    current.puts.push(...item.puts);
    current.deletes.push(...item.deletes);
    if (item.unit) current.units.push(item.unit);
  }
  const last = steps.at(-1);
  if (last && last.puts.length + last.deletes.length + 1 <= maxOps) last.puts.push(done);
  else steps.push({ guards: [intentGuard], puts: [done], deletes: [], units: [] });
  const applying = { ...w.applied, steps: steps.length + 1 };
  const intent: TxnPlan = {
    guards: seen,
    puts: [...definitionPut, { key: statusKey, value: encode({ ...rest, name: w.source, applying } satisfies SourceStatusRecord) }],
    deletes: [],
    units: [],
  };
  return [intent, ...steps];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
