/**
 * What the metrics (src/metrics) may read of the store, and nothing else:
 * the unit records and unit states of the whole cluster, watched (only the
 * leading engine follows them), and a hook on the connection's failed
 * requests for the etcd error counter. Read-only: metrics never write.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../util/log.js';
import type { Keys } from './keys.js';
import { PrefixCache } from './prefix-cache.js';
import type { UnitRecord, UnitStateRecord } from './records.js';
import { recordDecoders, type RecordDecoders } from './records-at.js';
import type { Registry } from './registry.js';

export interface MetricsStore {
  readonly keys: Keys;
  /** Every unit record (P/units/), watched once started. */
  allUnitRecords(log: Logger): PrefixCache<UnitRecord>;
  /** Every machine's unit states (P/states/), watched once started. */
  allUnitStates(log: Logger): PrefixCache<UnitStateRecord>;
  /**
   * Calls `listener` with the error of every failed request attempt on this
   * connection (every unary request goes through the retry policy
   * src/registry/store.ts configures). Returns false, and never calls it,
   * if the etcd client no longer has the shape this reaches into.
   */
  onRequestError(listener: (err: unknown) => void): boolean;
}

/** The metrics' view of the store a registry is connected to. */
export function metricsStoreOver(registry: Registry): MetricsStore {
  return new EtcdMetricsStore(registry.etcd, registry.keys);
}

interface FailureEvent {
  reason: { error?: unknown };
}
interface FailurePolicy {
  onFailure(listener: (e: FailureEvent) => void): unknown;
}

class EtcdMetricsStore implements MetricsStore {
  private readonly decode: RecordDecoders;

  constructor(
    private readonly etcd: Etcd3,
    readonly keys: Keys,
  ) {
    this.decode = recordDecoders(keys);
  }

  allUnitRecords(log: Logger): PrefixCache<UnitRecord> {
    return new PrefixCache(this.etcd, this.keys.unitsPrefix, this.decode.unit, log);
  }

  allUnitStates(log: Logger): PrefixCache<UnitStateRecord> {
    return new PrefixCache(this.etcd, this.keys.statesPrefix, this.decode.state, log);
  }

  /** Reaches into etcd3's connection pool for its global policy, as auth-recovery.ts does. */
  onRequestError(listener: (err: unknown) => void): boolean {
    const policy = (this.etcd as unknown as { pool?: { globalPolicy?: Partial<FailurePolicy> } }).pool?.globalPolicy;
    if (typeof policy?.onFailure !== 'function') return false;
    policy.onFailure((e) => listener(e.reason.error));
    return true;
  }
}
