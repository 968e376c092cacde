/**
 * The store-side invariant: what a user launched is never lost. Every
 * launched unit keeps its P/units/<name> record (same hash, desired
 * launched) and the P/content/<hash> it points at, whatever the faults.
 * Reads go straight to the etcd members, not through any host's proxy; a
 * read that fails (a member restarting, an election) is counted, not judged.
 */
import type { Etcd3 } from 'etcd3';
import { Keys } from '../../src/registry/keys.js';
import { decodeUnit } from '../../src/registry/records.js';
import { connectStore } from '../../src/registry/store.js';
import type { FaultLog } from './fault-log.js';
import type { UnitPolicy } from './units.js';
import type { Violations } from './violations.js';

export class EtcdCheck {
  checks = 0;
  readErrors = 0;
  private readonly etcd: Etcd3;
  private readonly keys: Keys;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    endpoints: string[],
    prefix: string,
    private readonly units: readonly UnitPolicy[],
    private readonly faults: FaultLog,
    private readonly violations: Violations,
    private readonly everyMs = 500,
  ) {
    this.etcd = connectStore({ endpoints, requestTimeoutMs: 2_000 });
    this.keys = new Keys(prefix);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.etcd.close();
  }

  /** One check now; false when etcd could not be read. */
  async checkOnce(): Promise<boolean> {
    let records: Map<string, string>;
    let contents: Set<string>;
    try {
      const [units, content] = await Promise.all([
        this.etcd.getAll().prefix(this.keys.unitsPrefix).strings(),
        this.etcd.getAll().prefix(this.keys.contentPrefix).keys(),
      ]);
      records = new Map(Object.entries(units));
      contents = new Set(content);
    } catch {
      this.readErrors++;
      return false;
    }
    this.checks++;
    const at = this.faults.now();
    for (const u of this.units) {
      const text = records.get(this.keys.unit(u.name));
      const record = text === undefined ? undefined : decodeUnit(text);
      const problem = text === undefined
        ? 'unit record missing'
        : !record
          ? 'unit record unreadable'
          : record.hash !== u.hash
            ? `hash changed to ${record.hash}`
            : record.desired !== 'launched'
              ? `desired state is ${record.desired}`
              : !contents.has(this.keys.content(u.hash))
                ? `content ${u.hash} missing`
                : undefined;
      if (problem) this.violations.seen('etcd-missing', u.name, [], at, problem);
      else this.violations.clear('etcd-missing', u.name);
    }
    return true;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const t = Date.now();
      await this.checkOnce();
      const wait = this.everyMs - (Date.now() - t);
      if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
