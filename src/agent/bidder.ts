/**
 * Answers the engine's offers: one bid per round, on the presence lease,
 * saying which offered contents (and, for name-dependent content, which
 * units) this host refuses, why, and how loaded it is. One watch event per
 * round wakes the agent, however many units the round holds, and each
 * distinct content is parsed once and judged once per round.
 *
 * When the host changes (its metadata), open rounds are answered again: the
 * engine keeps the latest bid per machine, so a round still open is decided
 * on what the host is now, not on what it was when the offer arrived.
 */
import { freemem } from 'node:os';
import type { AgentStore } from '../registry/agent-store.js';
import type { Keys } from '../registry/keys.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import type { BidRecord, OfferedContent, OfferRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { refusalReason } from '../conditions/host-checks.js';
import { verdictDependsOnName, type UnitFile } from '../unit/index.js';
import type { HostFacts, HostFactsSource } from '../conditions/host-facts.js';
import type { ContentCache } from './content-cache.js';

const NOT_FOUND = 'unit content not found in the store';
/** Only an engine of another version could send this: it did not list the names this content must be judged by. */
const NAMES_MISSING = 'the offer lists no unit names for content whose checks depend on the unit name';

export class Bidder {
  private readonly offers: PrefixCache<OfferRecord>;
  /** round -> the host generation its bid was made for */
  private readonly answered = new Map<string, number>();
  /** Bumped when the host changes: bids made before are stale. */
  private generation = 0;
  /** Bids are written one at a time, so a re-bid can never be overtaken by the bid it replaces. */
  private queue: Promise<void> = Promise.resolve();
  private leaseId: string | undefined;
  private readonly keys: Keys;

  constructor(
    private readonly store: AgentStore,
    private readonly host: HostFactsSource,
    private readonly contents: ContentCache,
    private readonly load: () => number,
    private readonly log: Logger,
  ) {
    this.keys = store.keys;
    this.offers = store.offers(log);
    this.offers.onChange((c) => {
      this.contents.setOffered(new Set([...this.offers.values()].flatMap((e) => e.value.contents.filter((o) => o.hostChecks).map((o) => o.hash))));
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
      // Content with nothing to check is accepted unread: no fetch, no parse.
      const checked = offer.contents.filter((c) => c.hostChecks);
      const [files, host] = await Promise.all([this.contents.files(checked.map((c) => c.hash)), this.host()]);
      const refuseContent = new Map<string, string>();
      const refuseUnit = new Map<string, string>();
      // Contents are judged concurrently: path conditions wait on the filesystem.
      await Promise.all(
        checked.map(async (c) => {
          const why = await this.judge(c, files.get(c.hash), host, refuseUnit);
          if (why !== undefined) refuseContent.set(c.hash, why);
        }),
      );
      const bid: BidRecord = {
        round: offer.round,
        machineId: this.store.machineId,
        refuseContent: clipped(refuseContent),
        refuseUnit: clipped(refuseUnit),
        load: this.load(),
        freeMemoryBytes: freemem(),
      };
      // Only while the offer stands: a bid landing after the engine resolved and
      // cleared the round would otherwise sit on our lease for as long as we live.
      const written = await this.store.putBid(bid, leaseId);
      // Remembered only for a round still open: the offer's delete prunes the entry, and a
      // round already gone would otherwise stay in the map for the life of the lease.
      if (written && this.offers.get(this.keys.offer(offer.round)) !== undefined) this.answered.set(round, generation);
      if (refuseContent.size + refuseUnit.size > 0) this.log.debug({ round, refuseContent: bid.refuseContent, refuseUnit: bid.refuseUnit }, 'bid refuses units');
    } catch (err) {
      this.log.warn({ round, err: errorMessage(err) }, 'bidding failed');
    }
  }

  /**
   * Why this host refuses every unit of the content, if it does; refusals of
   * single names (name-dependent content) go into `refuseUnit`.
   */
  private async judge(c: OfferedContent, file: UnitFile | string | undefined, host: HostFacts, refuseUnit: Map<string, string>): Promise<string | undefined> {
    if (file === undefined) return NOT_FOUND;
    if (typeof file === 'string') return file;
    if (c.names === undefined) return verdictDependsOnName(file) ? NAMES_MISSING : refusalReason('', file, host);
    const verdicts = await Promise.all(c.names.map((name) => refusalReason(name, file, host)));
    c.names.forEach((name, i) => {
      const why = verdicts[i];
      if (why !== undefined) refuseUnit.set(name, why);
    });
    return undefined;
  }

  async close(): Promise<void> {
    await this.offers.close();
    await this.queue;
  }
}

/**
 * A bid names up to a whole round of refusals; reasons quote unit file values,
 * which can be long. Clipped so a bid stays far below etcd's request size limit
 * (an oversized put fails, and the host would look silent round after round).
 */
const MAX_REASON_CHARS = 240;

function clipped(reasons: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, why] of reasons) out[k] = why.length > MAX_REASON_CHARS ? `${why.slice(0, MAX_REASON_CHARS - 1)}…` : why;
  return out;
}
