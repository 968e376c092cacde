/**
 * STAND-IN for systemd, used only by the scale benchmark so a thousand real
 * agents fit in one process. Units start and stop instantly and signal their
 * state changes like systemd's PropertiesChanged would. Nothing else in the
 * project may use it: every other test runs real systemd.
 */
import type { JobResult, UnitManager, UnitStatus } from '../../../src/agent/unit-manager.js';

type Listener = (name: string, status: Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>) => void;

export class MemoryUnitManager implements UnitManager {
  private readonly linked = new Set<string>();
  private readonly active = new Set<string>();
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

  async resetFailedUnit(): Promise<void> {}

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

  private emit(name: string, status: Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>): void {
    for (const l of this.listeners) l(name, status);
  }
}
