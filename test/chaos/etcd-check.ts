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
import { Periodic } from '../support/periodic.js';
import type { FaultLog } from './fault-log.js';
import type { UnitPolicy } from './units.js';
import type { Violations } from './violations.js';

export class EtcdCheck {
  checks = 0;
  readErrors = 0;
  private readonly etcd: Etcd3;
  private readonly keys: Keys;
  private readonly checker: Periodic;

  constructor(
    endpoints: string[],
    prefix: string,
    private readonly units: readonly UnitPolicy[],
    private readonly faults: FaultLog,
    private readonly violations: Violations,
    everyMs = 500,
  ) {
    this.etcd = connectStore({ endpoints, requestTimeoutMs: 2_000 });
    this.keys = new Keys(prefix);
    this.checker = new Periodic(everyMs, () => this.checkOnce());
  }

  start(): void {
    this.checker.start();
  }

  async stop(): Promise<void> {
    await this.checker.stop();
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

}
