/**
 * What the agent needs from a host's service manager. SystemdManager (D-Bus)
 * is the real one; the scale benchmark plugs in an in-memory stand-in so a
 * thousand agents fit in one process.
 */
import type { JobResult, UnitStatus } from '../systemd/manager.js';

export type { JobResult, UnitStatus };

export interface UnitManager {
  linkUnitFiles(paths: string[]): Promise<void>;
  disableUnitFiles(names: string[]): Promise<void>;
  reload(): Promise<void>;
  startUnit(name: string): Promise<JobResult>;
  stopUnit(name: string): Promise<JobResult>;
  restartUnit(name: string): Promise<JobResult>;
  resetFailedUnit(name: string): Promise<void>;
  unitStatus(name: string): Promise<UnitStatus>;
  /** systemd's Result property of the unit (why it last failed), if its type has one and the manager can tell. */
  unitResult?(name: string): Promise<string | undefined>;
  /** The start command that failed, in systemctl status's words, if the manager can tell. */
  failedCommand?(name: string): Promise<string | undefined>;
  /** Status of units whose files were just linked: many at once, cheaply. */
  freshUnitStatuses(names: readonly string[]): Promise<UnitStatus[]>;
  onUnitChange(listener: (name: string, status: Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>) => void): () => void;
  close(): void;
}
