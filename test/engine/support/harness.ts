/**
 * An engine against a real etcd, with the agents played by the test: each
 * fake agent registers its machine on a lease and answers every offer with
 * one bid, refusing what the test tells it to. This is an engine unit test
 * harness, not a cluster: no systemd, no flotillad.
 */
import { Writable } from 'node:stream';
import type { Etcd3, Lease } from 'etcd3';
import { pino } from 'pino';
import { Engine } from '../../../src/engine/engine.js';
import { Election } from '../../../src/engine/election.js';
import type { Fence } from '../../../src/engine/fence.js';
import { PrefixCache } from '../../../src/registry/prefix-cache.js';
import { decodeOffer, encode, type BidRecord, type DesiredState, type MachineRecord, type OfferRecord, type UnplacedRecord } from '../../../src/registry/records.js';
import { Registry } from '../../../src/registry/registry.js';
import { UnitFile } from '../../../src/unit/index.js';
import { waitFor } from '../../../src/util/deadline.js';
import { silentLogger } from '../../../src/util/log.js';

export const machineId = (c: string): string => c.repeat(32).slice(0, 32);

export class FakeAgent {
  /** unit -> reason: what this host refuses now. */
  readonly refuse = new Map<string, string>();
  /** Rounds this agent saw an offer for, with the units offered. */
  readonly offers: OfferRecord[] = [];
  /** A mute host never bids (alive, but too slow or broken to answer). */
  mute = false;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private readonly cache: PrefixCache<OfferRecord>;

  constructor(
    private readonly registry: Registry,
    readonly id: string,
    private readonly lease: Lease,
    private readonly leaseId: string,
    /** Units the test submitted, by content hash (each submitted unit has its own content). */
    private readonly unitsOf: (hash: string) => readonly string[],
  ) {
    this.cache = new PrefixCache(registry.etcd, registry.keys.offersPrefix, decodeOffer);
    this.cache.onChange((c) => {
      if (c.type === 'put') void this.bid(c.entry.value);
    });
  }

  async start(metadata: Record<string, string>): Promise<void> {
    const record: MachineRecord = { id: this.id, publicIP: '127.0.0.1', metadata, version: 'test' };
    await this.registry.etcd.put(this.registry.keys.machine(this.id)).value(encode(record)).lease(this.leaseId).exec();
    await this.cache.start();
    for (const e of this.cache.values()) void this.bid(e.value);
  }

  /** Bids wait until the returned function is called. */
  hold(): () => void {
    this.held = new Promise((resolve) => (this.release = resolve));
    return () => this.release?.();
  }

  private async bid(offer: OfferRecord): Promise<void> {
    this.offers.push(offer);
    if (this.mute) return;
    await this.held;
    const refuseContent: Record<string, string> = {};
    const refuseUnit: Record<string, string> = {};
    for (const c of offer.contents) {
      if (c.names) {
        for (const n of c.names) if (this.refuse.has(n)) refuseUnit[n] = this.refuse.get(n)!;
        continue;
      }
      const refused = this.unitsOf(c.hash).find((n) => this.refuse.has(n));
      if (refused !== undefined) refuseContent[c.hash] = this.refuse.get(refused)!;
    }
    const bid: BidRecord = { round: offer.round, machineId: this.id, refuseContent, refuseUnit, load: 0, freeMemoryBytes: 0 };
    await this.registry.etcd.put(this.registry.keys.bid(offer.round, this.id)).value(encode(bid)).lease(this.leaseId).exec().catch(() => undefined);
  }

  offeredTimes(unit: string): number {
    return this.offers.filter((o) => o.contents.some((c) => c.names?.includes(unit) || this.unitsOf(c.hash).includes(unit))).length;
  }

  /** The host dies: its lease goes, and everything on it. */
  async leave(): Promise<void> {
    await this.cache.close();
    await this.lease.revoke().catch(() => undefined);
  }
}

export class EngineHarness {
  readonly registry: Registry;
  readonly logs: Array<Record<string, unknown>> = [];
  engine!: Engine;
  private readonly agents: FakeAgent[] = [];
  /** content hash -> the submitted units with it */
  private readonly submitted = new Map<string, string[]>();
  private election: Election | undefined;
  private engineLease: Lease | undefined;

  constructor(etcd: Etcd3, prefix: string) {
    this.registry = new Registry(etcd, prefix);
  }

  async start(): Promise<this> {
    const logs = this.logs;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    this.engine = new Engine({ registry: this.registry, log: pino({ level: 'debug' }, sink), roundWindowMs: 300, resyncIntervalMs: 600_000 });
    this.engineLease = this.registry.etcd.lease(10);
    const leaseId = await this.engineLease.grant();
    this.election = new Election(this.registry, machineId('e'), silentLogger());
    const elected = new Promise<Fence>((resolve) => this.election!.once('elected', resolve));
    await this.election.campaign(leaseId);
    await this.engine.lead(await elected);
    return this;
  }

  async join(id: string, metadata: Record<string, string> = {}): Promise<FakeAgent> {
    const lease = this.registry.etcd.lease(10);
    const leaseId = await lease.grant();
    const agent = new FakeAgent(this.registry, id, lease, leaseId, (hash) => this.submitted.get(hash) ?? []);
    this.agents.push(agent);
    await agent.start(metadata);
    return agent;
  }

  /** Store several units in one transaction, so the engine sees them at once. Texts are whole unit files. */
  async submitAll(units: ReadonlyArray<{ name: string; text: string }>, desired: DesiredState = 'launched'): Promise<void> {
    const puts = new Map<string, string>();
    for (const u of units) {
      const file = UnitFile.parse(u.text);
      const hash = file.hash();
      const same = this.submitted.get(hash) ?? [];
      if (!same.includes(u.name)) this.submitted.set(hash, [...same, u.name]);
      puts.set(this.registry.keys.content(hash), file.serialize());
      puts.set(this.registry.keys.unit(u.name), encode({ name: u.name, hash, desired }));
    }
    const success = [...puts].map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }));
    await this.registry.etcd.kv.txn({ compare: [], success, failure: [] });
  }

  /**
   * Store a unit with an [X-Fleet] section (lines like "Conflicts=a.service").
   * Its Description is its name, so every unit has its own content and a fake
   * host's refusal of one unit does not reach the others. `unitLines` go in
   * [Unit]: a Condition line there makes it content hosts check (offered in a
   * round; otherwise the engine places it directly and no host is asked).
   */
  async submit(name: string, xfleet: string[] = [], desired: DesiredState = 'launched', unitLines: string[] = []): Promise<void> {
    const text = ['[Unit]', `Description=${name}`, ...unitLines, '[Service]', 'ExecStart=/bin/sleep infinity', ...(xfleet.length > 0 ? ['[X-Fleet]', ...xfleet] : [])].join('\n');
    const file = UnitFile.parse(text);
    const same = this.submitted.get(file.hash()) ?? [];
    if (!same.includes(name)) this.submitted.set(file.hash(), [...same, name]);
    await this.registry.putUnit({ name, hash: file.hash(), desired }, file.serialize());
  }

  /** unit -> machines it is assigned to. */
  async placement(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const a of await this.registry.listAssignments()) out.set(a.unit, [...(out.get(a.unit) ?? []), a.machineId].sort());
    return out;
  }

  /** Wait until `unit` is assigned to exactly `machines`. */
  async placed(unit: string, machines: string[], timeoutMs = 5000): Promise<void> {
    const want = [...machines].sort().join(',');
    await waitFor(`${unit} on ${want || 'no machine'}`, async () => ((await this.placement()).get(unit) ?? []).join(',') === want || undefined, { timeoutMs });
  }

  async unplaced(unit: string, check: (r: UnplacedRecord) => boolean = () => true, timeoutMs = 5000): Promise<UnplacedRecord> {
    return waitFor(`unplaced record of ${unit}`, async () => {
      const r = await this.registry.getUnplaced(unit);
      return r && check(r) ? r : undefined;
    }, { timeoutMs });
  }

  async noUnplaced(unit: string, timeoutMs = 5000): Promise<void> {
    await waitFor(`no unplaced record for ${unit}`, async () => ((await this.registry.getUnplaced(unit)) === undefined) || undefined, { timeoutMs });
  }

  /** Let the engine finish what it is doing; then true if a reconcile decides nothing new. */
  async settled(): Promise<boolean> {
    await waitFor('engine to finish its round and see its writes', () => (this.engine.busy ? undefined : true), { timeoutMs: 5000 });
    const before = JSON.stringify([...(await this.placement())].sort());
    await this.engine.reconcileNow();
    const after = JSON.stringify([...(await this.placement())].sort());
    return !this.engine.busy && before === after;
  }

  async stop(): Promise<void> {
    await this.engine.stepDown();
    for (const a of this.agents) await a.leave();
    await this.election?.resign();
    await this.engineLease?.revoke().catch(() => undefined);
  }
}
