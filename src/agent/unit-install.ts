/**
 * Putting a batch of units' files in place and making systemd see them,
 * each unit on its own: files are written concurrently, linked with one
 * LinkUnitFiles call (one call per unit if that fails, so the culprit is
 * found and the others are linked anyway), and their fresh statuses read
 * with one ListUnits + ListUnitsByNames (per unit if that fails). A unit that
 * fails at a step leaves the batch with its reason; the others carry on.
 * Deciding what to install is the batch plan's (batch-plan.ts), the
 * daemon-reload the executor's (batch-executor.ts).
 */
import type { AssignmentRecord } from '../registry/records.js';
import { UnitFile, parseRequirements } from '../unit/index.js';
import { errorMessage } from '../util/errors.js';
import type { ContentCache } from './content-cache.js';
import type { UnitFiles } from './unit-files.js';
import type { UnitManager, UnitStatus } from './unit-manager.js';

export interface UnitTraits {
  stopOnDisconnect: boolean;
  global: boolean;
}

/** What the agent must know of a unit's [X-Fleet]; unparseable content counts as a plain keep unit (it cannot run anyway). */
export function unitTraits(unit: string, text: string): UnitTraits {
  try {
    const r = parseRequirements(UnitFile.parse(text), unit).requirements;
    return { stopOnDisconnect: r.onDisconnect === 'stop', global: r.global };
  } catch {
    return { stopOnDisconnect: false, global: false };
  }
}

export interface InstallFailure {
  assignment: AssignmentRecord;
  reason: string;
}

export interface InstallOutcome {
  /** Units whose file now holds the assigned content (linked or not). */
  written: Map<string, UnitTraits>;
  /** Linked units systemd already sees as they are on disk, with that status. */
  ready: Map<string, UnitStatus>;
  /** Linked units systemd sees only after a daemon-reload (it had them in memory, or cannot load them yet). */
  stale: string[];
  failed: InstallFailure[];
}

export class UnitInstaller {
  constructor(
    private readonly files: UnitFiles,
    private readonly contents: ContentCache,
    private readonly manager: UnitManager,
  ) {}

  /**
   * Install `units`; those for which `rewrite` is false have their file in
   * place already and are only linked again (a link that failed before).
   * Throws only if the store cannot be read (nothing is installed then).
   */
  async install(units: readonly AssignmentRecord[], rewrite: (a: AssignmentRecord) => boolean): Promise<InstallOutcome> {
    const out: InstallOutcome = { written: new Map(), ready: new Map(), stale: [], failed: [] };
    const texts = await this.contents.fetch(units.filter(rewrite).map((a) => a.hash));
    const paths = new Map<string, string>();
    await Promise.all(
      units.map(async (a) => {
        try {
          if (!rewrite(a)) {
            paths.set(a.unit, this.files.pathOf(a.unit));
            return;
          }
          const text = texts.get(a.hash);
          if (text === undefined) {
            out.failed.push({ assignment: a, reason: `its content ${a.hash} is missing from the store` });
            return;
          }
          const traits = unitTraits(a.unit, text);
          paths.set(a.unit, await this.files.write(a.unit, text, traits.stopOnDisconnect));
          out.written.set(a.unit, traits);
        } catch (err) {
          out.failed.push({ assignment: a, reason: `cannot write its unit file: ${errorMessage(err)}` });
        }
      }),
    );
    const byUnit = new Map(units.map((a) => [a.unit, a]));
    const fail = (unit: string, reason: string): void => void out.failed.push({ assignment: byUnit.get(unit) as AssignmentRecord, reason });
    const linked = await this.link(paths, fail);
    for (const s of await this.statuses(linked, fail)) {
      if (s.needDaemonReload || s.load !== 'loaded') out.stale.push(s.name);
      else out.ready.set(s.name, s);
    }
    return out;
  }

  /** One call for all; if it fails, one call per unit. Returns the units linked. */
  private async link(paths: ReadonlyMap<string, string>, fail: (unit: string, reason: string) => void): Promise<string[]> {
    if (paths.size === 0) return [];
    try {
      await this.manager.linkUnitFiles([...paths.values()]);
      return [...paths.keys()];
    } catch (err) {
      if (paths.size === 1) {
        fail([...paths.keys()][0] as string, errorMessage(err));
        return [];
      }
    }
    const linked: string[] = [];
    for (const [unit, path] of paths) {
      try {
        await this.manager.linkUnitFiles([path]);
        linked.push(unit);
      } catch (err) {
        fail(unit, errorMessage(err));
      }
    }
    return linked;
  }

  /**
   * Reading the status of a brand-new unit makes systemd load it from the
   * fresh file: one cheap call for all (see freshUnitStatuses), else one per unit.
   */
  private async statuses(units: readonly string[], fail: (unit: string, reason: string) => void): Promise<UnitStatus[]> {
    if (units.length === 0) return [];
    try {
      return await this.manager.freshUnitStatuses(units);
    } catch {
      // Fall through: find out which unit systemd cannot answer for.
    }
    const out: UnitStatus[] = [];
    await Promise.all(
      units.map(async (unit) => {
        try {
          out.push(await this.manager.unitStatus(unit));
        } catch (err) {
          fail(unit, errorMessage(err));
        }
      }),
    );
    return out;
  }
}
