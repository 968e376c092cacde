/**
 * Tests that play the engine write offers the way it does: units grouped by
 * content, names listed only for checked content whose verdict depends on the
 * name (content not in the store: checked, by name); and read bids back per
 * unit.
 */
import { bidRefusal, type BidRecord, type OfferRecord, type OfferedContent } from '../../src/registry/records.js';
import { needsHostJudgement, verdictDependsOnName, type UnitFile } from '../../src/unit/index.js';

export interface OfferedTestUnit {
  name: string;
  hash: string;
  /** Undefined for content that is not in the store. */
  file?: UnitFile;
}

export function offerRecord(round: string, units: readonly OfferedTestUnit[]): OfferRecord {
  const byHash = new Map<string, OfferedContent>();
  for (const u of units) {
    let c = byHash.get(u.hash);
    if (!c) {
      const checked = u.file === undefined || needsHostJudgement(u.file);
      byHash.set(u.hash, (c = { hash: u.hash, units: 0, hostChecks: checked }));
      if (checked && (u.file === undefined || verdictDependsOnName(u.file))) c.names = [];
    }
    c.units++;
    c.names?.push(u.name);
  }
  return { round, contents: [...byHash.values()] };
}

/** unit -> reason, for every offered unit the bid refuses. */
export function refusedUnits(bid: BidRecord, units: readonly OfferedTestUnit[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const u of units) {
    const why = bidRefusal(bid, u.name, u.hash);
    if (why !== undefined) out[u.name] = why;
  }
  return out;
}
