/**
 * Answers the engine's offers: one bid per round, on the presence lease,
 * saying which offered units this host refuses (and why) and how loaded it
 * is. One watch event per round wakes the agent, however many units the
 * round holds.
 *
 * When the host changes (its metadata), open rounds are answered again: the
 * engine keeps the latest bid per machine, so a round still open is decided
 * on what the host is now, not on what it was when the offer arrived.
 */
import { freemem } from 'node:os';
import type { Etcd3 } from 'etcd3';
import type { Keys } from '../registry/keys.js';
import { PrefixCache } from '../registry/prefix-cache.js';
import { decodeOffer, encode, type BidRecord, type OfferRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { refusalReason } from './host-checks.js';
import { X_FLEET_SECTION, type UnitFile } from '../unit/index.js';
import type { HostFactsSource } from './host-facts.js';
import type { ContentCache } from './content-cache.js';

const nameDependence = new WeakMap<UnitFile, boolean>();

/** Whether a verdict on this content can differ by unit name: a specifier in [X-Fleet] or a Condition/Assert line. */
function dependsOnName(file: UnitFile): boolean {
  let v = nameDependence.get(file);
  if (v === undefined) {
    v = file.options.some((o) => o.value.includes('%') && (o.section === X_FLEET_SECTION || /^(Condition|Assert)/.test(o.name)));
    nameDependence.set(file, v);
  }
  return v;
}

export class Bidder {
  private readonly offers: PrefixCache<OfferRecord>;
  /** round -> the host generation its bid was made for */
  private readonly answered = new Map<string, number>();
  /** Bumped when the host changes: bids made before are stale. */
  private generation = 0;
  /** Bids are written one at a time, so a re-bid can never be overtaken by the bid it replaces. */
  private queue: Promise<void> = Promise.resolve();
  private leaseId: string | undefined;

  constructor(
    private readonly etcd: Etcd3,
    private readonly keys: Keys,
    private readonly machineId: string,
    private readonly host: HostFactsSource,
    private readonly contents: ContentCache,
    private readonly load: () => number,
    private readonly log: Logger,
  ) {
    this.offers = new PrefixCache(etcd, keys.offersPrefix, decodeOffer, log);
    this.offers.onChange((c) => {
      if (c.type === 'put') this.schedule(c.entry.value.round);
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

  /** The host changed: answer every open round again with what it is now. */
  reconsider(): void {
    this.generation++;
    this.answerAll();
  }

  /** Resolves once every bid scheduled so far is written (or failed). */
  idle(): Promise<void> {
    return this.queue;
  }

  private answerAll(): void {
    for (const e of this.offers.values()) this.schedule(e.value.round);
  }

  private schedule(round: string): void {
    this.queue = this.queue.then(() => this.answer(round));
  }

  private async answer(round: string): Promise<void> {
    const leaseId = this.leaseId;
    const generation = this.generation;
    // Read the offer now, not when it was scheduled: it may be resolved (gone) or replaced.
    const offer = this.offers.get(this.keys.offer(round))?.value;
    if (!leaseId || !offer || this.answered.get(round) === generation) return;
    try {
      const [files, host] = await Promise.all([this.contents.files(offer.units.map((u) => u.hash)), this.host()]);
      // Units are judged concurrently: path conditions wait on the filesystem.
      // Content without specifiers gets one verdict for all its names: a round
      // of 2,000 instances of one template costs one evaluation, not 2,000.
      const verdicts = new Map<string, Promise<string | undefined>>();
      const reasons = await Promise.all(
        offer.units.map((u) => {
          const file = files.get(u.hash);
          if (file === undefined) return 'unit content not found in the store';
          if (typeof file === 'string') return file;
          const key = dependsOnName(file) ? `${u.hash}\0${u.name}` : u.hash;
          let verdict = verdicts.get(key);
          if (!verdict) verdicts.set(key, (verdict = refusalReason(u.name, file, host)));
          return verdict;
        }),
      );
      const refuse: Record<string, string> = {};
      offer.units.forEach((u, i) => {
        const why = reasons[i];
        if (why !== undefined) refuse[u.name] = why;
      });
      const bid: BidRecord = { round: offer.round, machineId: this.machineId, refuse, load: this.load(), freeMemoryBytes: freemem() };
      // Only while the offer stands: a bid landing after the engine resolved and
      // cleared the round would otherwise sit on our lease for as long as we live.
      const offerKey = this.keys.offer(offer.round);
      await this.etcd
        .if(offerKey, 'Version', '>', 0)
        .then(this.etcd.put(this.keys.bid(offer.round, this.machineId)).value(encode(bid)).lease(leaseId))
        .commit();
      this.answered.set(round, generation);
      if (Object.keys(refuse).length > 0) this.log.debug({ round, refuse }, 'bid refuses units');
    } catch (err) {
      this.log.warn({ round, err: errorMessage(err) }, 'bidding failed');
    }
  }

  async close(): Promise<void> {
    await this.offers.close();
    await this.queue;
  }
}
