/**
 * Answers the engine's offers: one bid per round, on the presence lease,
 * saying which offered units this host refuses and how loaded it is. One
 * watch event per round wakes the agent, however many units the round holds.
 */
import { freemem } from 'node:os';
import type { Etcd3 } from 'etcd3';
import type { Keys } from '../registry/keys.js';
import { PrefixCache } from '../registry/prefix-cache.js';
import { decodeOffer, encode, type BidRecord, type OfferRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { refusalReason, type HostFacts } from './host-checks.js';
import type { ContentCache } from './content-cache.js';

export class Bidder {
  private readonly offers: PrefixCache<OfferRecord>;
  private readonly answered = new Set<string>();
  private leaseId: string | undefined;

  constructor(
    private readonly etcd: Etcd3,
    private readonly keys: Keys,
    private readonly host: HostFacts,
    private readonly contents: ContentCache,
    private readonly load: () => number,
    private readonly log: Logger,
  ) {
    this.offers = new PrefixCache(etcd, keys.offersPrefix, decodeOffer, log);
    this.offers.onChange((c) => {
      if (c.type === 'put') void this.answer(c.entry.value);
      else if (c.type === 'delete') this.answered.delete(c.previous?.value.round ?? '');
      else this.answerAll();
    });
  }

  async start(leaseId: string): Promise<void> {
    this.leaseId = leaseId;
    await this.offers.start();
    this.answerAll();
  }

  useLease(leaseId: string): void {
    this.leaseId = leaseId;
    this.answered.clear();
    this.answerAll();
  }

  private answerAll(): void {
    for (const e of this.offers.values()) void this.answer(e.value);
  }

  private async answer(offer: OfferRecord): Promise<void> {
    const leaseId = this.leaseId;
    if (!leaseId || this.answered.has(offer.round)) return;
    this.answered.add(offer.round);
    try {
      const files = await this.contents.files(offer.units.map((u) => u.hash));
      const refuse: Record<string, string> = {};
      for (const u of offer.units) {
        const file = files.get(u.hash);
        const why = file === undefined ? 'unit content not found in the store' : typeof file === 'string' ? file : refusalReason(u.name, file, this.host);
        if (why !== undefined) refuse[u.name] = why;
      }
      const bid: BidRecord = { round: offer.round, machineId: this.host.machineId, refuse, load: this.load(), freeMemoryBytes: freemem() };
      await this.etcd.put(this.keys.bid(offer.round, this.host.machineId)).value(encode(bid)).lease(leaseId).exec();
    } catch (err) {
      this.answered.delete(offer.round);
      this.log.warn({ round: offer.round, err: errorMessage(err) }, 'bidding failed');
    }
  }

  async close(): Promise<void> {
    await this.offers.close();
  }
}
