/**
 * Unit state changes from systemd's PropertiesChanged signals, for all
 * units at once (one match rule, see manager.ts), turned into
 * (unit name, changed states) events with repeats dropped: systemd emits
 * PropertiesChanged for many properties we do not report, and often
 * re-sends unchanged LoadState/ActiveState/SubState alongside them.
 */
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { Signal } from './bus.js';
import { unitNameFromObjectPath, UNIT_PATH_PREFIX } from './object-path.js';
import { PROPERTIES_IFACE, UNIT_IFACE, type UnitChange, type UnitChangeListener } from './types.js';

/** Object path -> unit name, learned from systemd's own answers (ListUnits
 *  returns the canonical path of each unit) and from paths we computed.
 *  Decoding the escaping is the fallback for paths we never saw. */
export class UnitPaths {
  private readonly byPath = new Map<string, string>();

  constructor(private readonly max = 20_000) {}

  remember(path: string, name: string): void {
    if (this.byPath.get(path) === name) return;
    // Crude bound: unit names churn slowly, so an occasional full reset
    // (falling back to decoding) is cheaper than LRU bookkeeping.
    if (this.byPath.size >= this.max) this.byPath.clear();
    this.byPath.set(path, name);
  }

  nameOf(path: string): string {
    return this.byPath.get(path) ?? unitNameFromObjectPath(path);
  }

  forget(path: string): void {
    this.byPath.delete(path);
  }
}

type Seen = { load?: string; active?: string; sub?: string };

export class UnitChangeFeed {
  private readonly listeners = new Set<UnitChangeListener>();
  private readonly last = new Map<string, Seen>();

  constructor(
    private readonly paths: UnitPaths,
    private readonly log: Logger,
  ) {}

  subscribe(listener: UnitChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Feed every signal; the ones that are not unit PropertiesChanged are ignored. */
  handle(signal: Signal): void {
    if (signal.iface !== PROPERTIES_IFACE || signal.member !== 'PropertiesChanged') return;
    if (!signal.path.startsWith(UNIT_PATH_PREFIX)) return;
    const [iface, changed] = signal.body as [unknown, unknown];
    if (iface !== UNIT_IFACE || typeof changed !== 'object' || changed === null) return;
    const props = changed as Record<string, { value?: unknown } | undefined>;
    const seen: Seen = {};
    const load = props['LoadState']?.value;
    const active = props['ActiveState']?.value;
    const sub = props['SubState']?.value;
    if (typeof load === 'string') seen.load = load;
    if (typeof active === 'string') seen.active = active;
    if (typeof sub === 'string') seen.sub = sub;
    if (seen.load === undefined && seen.active === undefined && seen.sub === undefined) return;

    let name: string;
    try {
      name = this.paths.nameOf(signal.path);
    } catch (err) {
      this.log.warn({ path: signal.path, err: errorMessage(err) }, 'PropertiesChanged from an unexpected object path');
      return;
    }
    const change = this.diff(name, seen);
    if (!change) return;
    for (const l of this.listeners) {
      try {
        l(name, change);
      } catch (err) {
        this.log.error({ unit: name, err: errorMessage(err) }, 'unit change listener failed');
      }
    }
  }

  /** systemd dropped the unit from memory: the next state we see for it is
   *  news even if it equals the last one. */
  unitRemoved(name: string): void {
    this.last.delete(name);
  }

  private diff(name: string, seen: Seen): UnitChange | undefined {
    const prev = this.last.get(name) ?? {};
    const change: UnitChange = {};
    let any = false;
    for (const k of ['load', 'active', 'sub'] as const) {
      const v = seen[k];
      if (v !== undefined && v !== prev[k]) {
        change[k] = v;
        any = true;
      }
    }
    if (any) this.last.set(name, { ...prev, ...change });
    return any ? change : undefined;
  }
}
