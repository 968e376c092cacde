/**
 * Engine election: every flotillad puts a candidate key on its presence
 * lease; the candidate with the lowest create revision leads. When the leader's
 * lease expires (its host died) or it resigns, its key disappears and the next
 * candidate leads at once: failover costs the lease TTL, nothing more.
 */
import { leadingCandidate } from './leader-rule.js';
import { EventEmitter } from 'node:events';
import { EngineStore } from '../registry/engine-store.js';
import type { Keys } from '../registry/keys.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import type { Registry } from '../registry/registry.js';
import type { Logger } from '../util/log.js';
import type { Fence } from './fence.js';

export interface ElectionEvents {
  elected: [fence: Fence];
  deposed: [];
}

export class Election extends EventEmitter<ElectionEvents> {
  private candidates: PrefixCache<string> | undefined;
  private fence: Fence | undefined;
  private myKey: string | undefined;
  private leaderId: string | undefined;
  private readonly store: EngineStore;
  private readonly keys: Keys;

  constructor(
    registry: Registry,
    private readonly machineId: string,
    private readonly log: Logger,
  ) {
    super();
    this.store = new EngineStore(registry);
    this.keys = registry.keys;
  }

  get isLeader(): boolean {
    return this.fence !== undefined;
  }

  get leader(): string | undefined {
    return this.leaderId;
  }

  /** Join (or re-join, after a lease was replaced) the election on `leaseId`. */
  async campaign(leaseId: string): Promise<void> {
    const key = this.keys.candidate(leaseId);
    if (this.myKey !== key) {
      this.depose();
      this.myKey = key;
    }
    await this.store.putCandidate(key, this.machineId, leaseId);
    if (!this.candidates) {
      const cache = this.store.watch<string>(this.keys.electionPrefix, (v) => v, this.log);
      cache.onChange(() => this.evaluate());
      await cache.start();
      this.candidates = cache;
    }
    this.evaluate();
  }

  private evaluate(): void {
    if (!this.candidates) return;
    const leader = leadingCandidate(this.candidates.values());
    const lowest = leader && { key: leader.key, rev: leader.createRevision, value: leader.value, lease: leader.lease };
    this.leaderId = lowest?.value;
    if (lowest && lowest.key === this.myKey) {
      if (!this.fence || this.fence.revision !== lowest.rev) {
        this.fence = { candidateKey: lowest.key, revision: lowest.rev, leaseId: lowest.lease };
        this.log.info({ revision: lowest.rev }, 'engine leadership acquired');
        this.emit('elected', this.fence);
      }
    } else {
      this.depose();
    }
  }

  private depose(): void {
    if (!this.fence) return;
    this.fence = undefined;
    this.log.info({ leader: this.leaderId }, 'engine leadership lost');
    this.emit('deposed');
  }

  /** Step down at once so another engine takes over without waiting for the TTL. */
  async resign(): Promise<void> {
    const key = this.myKey;
    this.depose();
    this.myKey = undefined;
    await this.candidates?.close();
    this.candidates = undefined;
    // Best effort: if the delete fails, the key goes with its lease and the next candidate leads then.
    if (key) await this.store.deleteCandidate(key).catch(() => undefined);
  }
}
