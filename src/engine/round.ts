/**
 * One offer/bid round. The engine offers a batch of units; each live agent
 * answers with one bid (what it refuses, its load). The round resolves as
 * soon as every machine expected at opening that is still alive has bid, or
 * when the window closes: a dead agent whose lease has not expired yet costs
 * one window, never a stall.
 */
import type { BidRecord, OfferedUnit } from '../registry/records.js';

export class Round {
  private readonly bids = new Map<string, BidRecord>();
  readonly openedAt = Date.now();
  /** etcd requests the engine made for this round (the offer, the resolution). */
  requests = 0;

  constructor(
    readonly id: string,
    readonly units: readonly OfferedUnit[],
    readonly expected: ReadonlySet<string>,
  ) {}

  addBid(bid: BidRecord): void {
    if (bid.round === this.id) this.bids.set(bid.machineId, bid);
  }

  /** True when no live expected machine is still missing a bid. */
  complete(isLive: (machineId: string) => boolean): boolean {
    for (const m of this.expected) {
      if (!this.bids.has(m) && isLive(m)) return false;
    }
    return true;
  }

  received(): BidRecord[] {
    return [...this.bids.values()];
  }
}

/** Round ids sort by creation: fencing revision, then a per-term counter. */
export function roundId(fenceRevision: number, seq: number): string {
  return `${String(fenceRevision).padStart(12, '0')}-${String(seq).padStart(8, '0')}`;
}
