/**
 * Handover of a returning host's copies (fleet bug #1690). A host that was
 * away past its TTL (cut off, frozen, or its flotillad dead) comes back to
 * find that the engine gave its units to other machines. fleet stopped its
 * copies at once, often before the replacements were up: the service was down
 * everywhere. Here an OnDisconnect=keep copy that is still running keeps
 * running until one of these holds:
 *
 * - the replacement is active: another machine reports the unit `active` in
 *   P/states/<unit>/<machine>;
 * - the user no longer wants it running: the unit was destroyed, unloaded or
 *   stopped (its record is gone or its desired state is not `launched`);
 * - the handover timed out (a replacement that cannot start must not keep the
 *   old copy alive for ever).
 *
 * A global unit runs on every host, so a copy elsewhere replaces nothing: it
 * waits to be assigned here again (and is then adopted, not restarted), for
 * the user, or for the timeout. OnDisconnect=stop units never wait: their
 * host's switch has stopped them.
 */
import type { AgentStore } from '../registry/agent-store.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import type { UnitRecord, UnitStateRecord } from '../registry/records.js';
import type { Logger } from '../util/log.js';
import { delay } from '../util/deadline.js';
import { errorMessage } from '../util/errors.js';
import { timerDelay } from '../util/timers.js';

export interface HandoverFacts {
  /** The unit's record in P/units, undefined if it was destroyed. */
  unit: UnitRecord | undefined;
  /** What other machines report for the unit (this machine's own record excluded). */
  others: readonly UnitStateRecord[];
  /** A global unit: copies on other machines are not replacements. */
  global: boolean;
  waitedMs: number;
  timeoutMs: number;
}

export type HandoverVerdict = { stop: true; reason: string } | { stop: false };

/** Pure: may the returning host stop its copy now? */
export function handoverVerdict(f: HandoverFacts): HandoverVerdict {
  if (!f.unit) return { stop: true, reason: 'unit destroyed' };
  if (f.unit.desired !== 'launched') return { stop: true, reason: `desired state ${f.unit.desired}` };
  const active = f.global ? undefined : f.others.find((s) => s.active === 'active');
  if (active) return { stop: true, reason: `replacement active on ${active.machineId}` };
  if (f.waitedMs >= f.timeoutMs) {
    const what = f.global ? 'not assigned here again' : 'no replacement active';
    return { stop: true, reason: `${what} after ${Math.round(f.waitedMs / 1000)} s` };
  }
  return { stop: false };
}

/** The longest a returning copy waits for its replacement: 3 x TTL, at least 30 s. */
export function handoverTimeoutMs(ttlSeconds: number): number {
  return Math.max(30_000, 3 * ttlSeconds * 1000);
}

interface Pending {
  since: number;
  global: boolean;
  states: PrefixCache<UnitStateRecord>;
  record: PrefixCache<UnitRecord>;
  loaded: boolean;
  timer: NodeJS.Timeout;
  closed: boolean;
}

/**
 * The handovers in progress on this host: per unit, a watch on its states
 * and its record (only while it waits: an agent otherwise watches nothing
 * of other machines), and a timer. `onChange` is called whenever a verdict
 * may have changed; the reconciler then asks `verdict`.
 */
export class Handovers {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly store: AgentStore,
    private readonly timeoutMs: number,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  has(unit: string): boolean {
    return this.pending.has(unit);
  }

  /** The units being handed over now. */
  units(): IterableIterator<string> {
    return this.pending.keys();
  }

  begin(unit: string, opts: { global: boolean }): void {
    if (this.pending.has(unit)) return;
    const p: Pending = {
      since: Date.now(),
      global: opts.global,
      ...this.caches(unit),
      loaded: false,
      timer: setTimeout(() => this.onChange(), timerDelay(this.timeoutMs + 10)),
      closed: false,
    };
    p.timer.unref();
    this.pending.set(unit, p);
    const until = opts.global ? 'it is assigned here again' : 'the replacement is active';
    this.log.info({ unit, timeoutMs: this.timeoutMs }, `unit was unscheduled here while this host was away: keeping this copy running until ${until}`);
    void this.load(unit, p);
  }

  /** The unit's states and its record, each a watched cache that reports changes. */
  private caches(unit: string): Pick<Pending, 'states' | 'record'> {
    const states = this.store.unitStates(unit, this.log);
    const record = this.store.unitRecord(unit, this.log);
    states.onChange(() => this.onChange());
    record.onChange(() => this.onChange());
    return { states, record };
  }

  /** Watches start in the background; until they have read once, the answer is "wait" (or the timeout). */
  private async load(unit: string, p: Pending): Promise<void> {
    for (let attempt = 0; !p.closed; attempt++) {
      try {
        await Promise.all([p.states.start(), p.record.start()]);
        p.loaded = true;
        this.onChange();
        return;
      } catch (err) {
        if (attempt === 0) this.log.warn({ unit, err: errorMessage(err) }, 'cannot read the replacement\'s state yet; retrying');
        await Promise.all([p.states.close(), p.record.close()]);
        if (p.closed) return;
        Object.assign(p, this.caches(unit));
        await delay(Math.min(1000, 100 * 2 ** attempt));
      }
    }
  }

  verdict(unit: string): HandoverVerdict {
    const p = this.pending.get(unit);
    if (!p) return { stop: true, reason: 'no handover' };
    const waitedMs = Date.now() - p.since;
    if (!p.loaded) return waitedMs >= this.timeoutMs ? { stop: true, reason: 'timed out before the replacement could be looked up' } : { stop: false };
    const others = [...p.states.values()].map((e) => e.value).filter((s) => s.machineId !== this.store.machineId);
    const unitRecord = p.record.get(this.store.keys.unit(unit))?.value;
    return handoverVerdict({ unit: unitRecord, others, global: p.global, waitedMs, timeoutMs: this.timeoutMs });
  }

  /** The handover is over (copy stopped, or the unit assigned here again). */
  end(unit: string): void {
    const p = this.pending.get(unit);
    if (!p) return;
    this.pending.delete(unit);
    p.closed = true;
    clearTimeout(p.timer);
    void p.states.close();
    void p.record.close();
  }

  closeAll(): void {
    for (const unit of [...this.pending.keys()]) this.end(unit);
  }
}
