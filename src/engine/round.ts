/**
 * One offer/bid round. The engine offers a batch of units; each live agent
 * answers with one bid (what it refuses, its load). The round resolves as
 * soon as every machine expected at opening that is still alive has bid, or
 * at a window's end once at least half of them have been heard from and no
 * bid came in during that window: a dead agent whose lease has not expired
 * yet costs about one window, never a stall. Fewer than half, or bids still
 * arriving, means the cluster is slow, not dead (dead machines leave the live
 * set when their leases expire), so the round waits on, up to a hard limit.
 * Cutting off machines that are still answering would hand their share to
 * the fast ones.
 */
import type { BidRecord } from '../registry/records.js';

/** A unit a round offers, with the content the hosts judge. */
export interface RoundUnit {
  name: string;
  hash: string;
}

export class Round {
  private readonly bids = new Map<string, BidRecord>();
  /** Expected machines that have not bid yet: shrinks with every bid, so checking completion stays cheap. */
  private readonly waitingFor: Set<string>;
  readonly openedAt = Date.now();
  /** etcd requests the engine made for this round (the offer, the resolution). */
  requests = 0;
  /** Offered unit -> the content hash offered for it. */
  readonly hashOf: ReadonlyMap<string, string>;

  constructor(
    readonly id: string,
    readonly units: readonly RoundUnit[],
    readonly expected: ReadonlySet<string>,
  ) {
    this.hashOf = new Map(units.map((u) => [u.name, u.hash] as const));
    this.waitingFor = new Set(expected);
  }

  /** When the last bid came in (opening time until then). */
  private lastBidAt = this.openedAt;

  addBid(bid: BidRecord): void {
    if (bid.round !== this.id) return;
    this.bids.set(bid.machineId, bid);
    this.waitingFor.delete(bid.machineId);
    this.lastBidAt = Date.now();
  }

  /** How long until no bid will have come in for `ms` (0 or less: already so). */
  quietIn(ms: number): number {
    return this.lastBidAt + ms - Date.now();
  }

  /** True when no live expected machine is still missing a bid. */
  complete(isLive: (machineId: string) => boolean): boolean {
    for (const m of this.waitingFor) {
      if (isLive(m)) return false;
    }
    return true;
  }

  /** At least half of the live expected machines have bid. */
  quorate(isLive: (machineId: string) => boolean): boolean {
    let live = 0;
    let heard = 0;
    for (const m of this.expected) {
      if (!isLive(m)) continue;
      live++;
      if (this.bids.has(m)) heard++;
    }
    return heard * 2 >= live;
  }

  received(): BidRecord[] {
    return [...this.bids.values()];
  }
}

/** Round ids sort by creation: fencing revision, then a per-term counter. */
export function roundId(fenceRevision: number, seq: number): string {
  return `${String(fenceRevision).padStart(12, '0')}-${String(seq).padStart(8, '0')}`;
}
