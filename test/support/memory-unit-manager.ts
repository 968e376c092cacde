/**
 * STAND-IN for systemd: units start and stop instantly and signal their state
 * changes like systemd's PropertiesChanged would. Used by the scale benchmark
 * (a thousand real agents in one process) and by agent unit tests of bidding
 * logic. Every test of cluster behaviour runs real systemd instead.
 */
import type { JobResult, UnitManager, UnitStatus } from '../../src/agent/unit-manager.js';

type Listener = (name: string, status: Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>) => void;

export class MemoryUnitManager implements UnitManager {
  readonly linked = new Set<string>();
  readonly active = new Set<string>();
  private readonly listeners = new Set<Listener>();
  starts = 0;

  async linkUnitFiles(paths: string[]): Promise<void> {
    for (const p of paths) this.linked.add(p.slice(p.lastIndexOf('/') + 1));
  }

  async disableUnitFiles(names: string[]): Promise<void> {
    for (const n of names) this.linked.delete(n);
  }

  async reload(): Promise<void> {}

  async startUnit(name: string): Promise<JobResult> {
    this.starts++;
    this.active.add(name);
    queueMicrotask(() => this.emit(name, { active: 'active', sub: 'running' }));
    return 'done';
  }

  async stopUnit(name: string): Promise<JobResult> {
    if (this.active.delete(name)) queueMicrotask(() => this.emit(name, { active: 'inactive', sub: 'dead' }));
    return 'done';
  }

  async restartUnit(name: string): Promise<JobResult> {
    return this.startUnit(name);
  }

  async resetFailedUnit(): Promise<void> {}

  freshUnitStatuses(names: readonly string[]): Promise<UnitStatus[]> {
    return Promise.all(names.map((n) => this.unitStatus(n)));
  }

  async unitStatus(name: string): Promise<UnitStatus> {
    const on = this.active.has(name);
    return {
      name,
      load: this.linked.has(name) ? 'loaded' : 'not-found',
      active: on ? 'active' : 'inactive',
      sub: on ? 'running' : 'dead',
      mainPid: 0,
      needDaemonReload: false,
    };
  }

  onUnitChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
  }

  protected emit(name: string, status: Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>): void {
    for (const l of this.listeners) l(name, status);
  }
}
