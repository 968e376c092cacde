/**
 * This machine's effective metadata, kept current: its config metadata
 * overlaid with the dynamic metadata users set in the store under
 * P/metadata/<machine>/ (an empty value removes a key). The dynamic keys are
 * not on the agent's lease, so they outlive a restart or a lost lease and
 * apply again when the machine rejoins.
 */
import type { AgentStore } from '../registry/agent-store.js';
import type { PrefixCache } from '../registry/prefix-cache.js';
import { decodeMachineDynamicMetadata, mergeMetadata } from '../registry/metadata-overlay.js';
import type { Logger } from '../util/log.js';

export class MachineMetadata {
  private readonly dynamic: PrefixCache<string>;
  private effective: Record<string, string>;
  private readonly listeners: Array<(metadata: Readonly<Record<string, string>>) => void> = [];

  constructor(
    private readonly store: AgentStore,
    private config: Readonly<Record<string, string>>,
    private readonly log: Logger,
  ) {
    this.effective = { ...config };
    this.dynamic = store.ownMetadata(log);
    this.dynamic.onChange(() => this.recompute());
  }

  async start(): Promise<void> {
    await this.dynamic.start();
    this.effective = this.compute();
    this.log.info({ metadata: this.effective }, 'machine metadata');
  }

  /** New config metadata (a reload); listeners hear of it if the effective metadata changed. */
  setConfig(config: Readonly<Record<string, string>>): void {
    this.config = { ...config };
    this.recompute();
  }

  current(): Readonly<Record<string, string>> {
    return this.effective;
  }

  /** Called with the new effective metadata whenever it changes (not on writes that change nothing). */
  onChange(listener: (metadata: Readonly<Record<string, string>>) => void): void {
    this.listeners.push(listener);
  }

  private recompute(): void {
    const next = this.compute();
    if (sameRecord(next, this.effective)) return;
    this.effective = next;
    this.log.info({ metadata: next }, 'machine metadata changed');
    for (const l of this.listeners) l(next);
  }

  private compute(): Record<string, string> {
    return mergeMetadata(this.config, decodeMachineDynamicMetadata(this.store.keys, this.store.machineId, this.dynamic.values()));
  }

  async close(): Promise<void> {
    await this.dynamic.close();
  }
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
