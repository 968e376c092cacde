/** Shapes shared by the systemd client's files. */

export interface UnitStatus {
  name: string;
  load: string;
  active: string;
  sub: string;
  /** 0 when the unit is not a service or has no main process. */
  mainPid: number;
  needDaemonReload: boolean;
}

export type UnitChange = Partial<Pick<UnitStatus, 'load' | 'active' | 'sub'>>;

export type UnitChangeListener = (name: string, status: UnitChange) => void;

export const SYSTEMD_BUS_NAME = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
export const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
export const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
export const PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties';
