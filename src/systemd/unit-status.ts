/**
 * Reading unit state: per-unit properties with raw Properties.Get messages
 * (no introspected proxy: that would cost an extra round trip per unit),
 * and the whole manager with ListUnits.
 */
import { BusCallError, type BusConnection } from './bus.js';
import { unitObjectPath } from './object-path.js';
import type { UnitPaths } from './unit-watch.js';
import {
  MANAGER_IFACE,
  MANAGER_PATH,
  PROPERTIES_IFACE,
  SERVICE_IFACE,
  SYSTEMD_BUS_NAME,
  UNIT_IFACE,
  type UnitStatus,
} from './types.js';

/** What systemd itself reports for a name it has no unit file for. */
export function notFoundStatus(name: string): UnitStatus {
  return { name, load: 'not-found', active: 'inactive', sub: 'dead', mainPid: 0, needDaemonReload: false };
}

// systemd answers these when it cannot even try to load the name; for a
// caller that is the same as a unit without a file.
const NOT_FOUND_ERRORS = new Set(['org.freedesktop.systemd1.NoSuchUnit', 'org.freedesktop.DBus.Error.UnknownObject']);

/** One property of one object, raw (the variant's value). */
export async function readProperty(bus: BusConnection, path: string, iface: string, prop: string): Promise<unknown> {
  const [variant] = await bus.call({
    destination: SYSTEMD_BUS_NAME,
    path,
    iface: PROPERTIES_IFACE,
    member: 'Get',
    signature: 'ss',
    body: [iface, prop],
  });
  return (variant as { value?: unknown } | undefined)?.value;
}

/**
 * Reading a unit's object path makes systemd load the unit if it is not in
 * memory (LoadUnit semantics), so an unknown name reads as not-found rather
 * than failing. The calls are pipelined: one round trip in total.
 */
export async function readUnitStatus(bus: BusConnection, paths: UnitPaths, name: string): Promise<UnitStatus> {
  const path = unitObjectPath(name);
  paths.remember(path, name);
  const isService = name.endsWith('.service');
  const mainPid = isService
    ? readProperty(bus, path, SERVICE_IFACE, 'MainPID').catch((err: unknown) => {
        // Only a D-Bus error reply means "no such property here"; a lost
        // connection must still fail the whole read.
        if (err instanceof BusCallError && err.dbusName.startsWith('org.freedesktop.')) return 0;
        throw err;
      })
    : Promise.resolve(0);
  try {
    const [load, active, sub, needReload, pid] = await Promise.all([
      readProperty(bus, path, UNIT_IFACE, 'LoadState'),
      readProperty(bus, path, UNIT_IFACE, 'ActiveState'),
      readProperty(bus, path, UNIT_IFACE, 'SubState'),
      readProperty(bus, path, UNIT_IFACE, 'NeedDaemonReload'),
      mainPid,
    ]);
    return {
      name,
      load: String(load),
      active: String(active),
      sub: String(sub),
      mainPid: typeof pid === 'number' ? pid : 0,
      needDaemonReload: needReload === true,
    };
  } catch (err) {
    if (err instanceof BusCallError && NOT_FOUND_ERRORS.has(err.dbusName)) return notFoundStatus(name);
    throw err;
  }
}

function rowsToStatuses(rows: unknown, paths: UnitPaths): UnitStatus[] {
  const out: UnitStatus[] = [];
  // a(ssssssouso): name, description, load, active, sub, following, path, job id, job type, job path
  for (const row of (rows ?? []) as unknown[][]) {
    const [name, , load, active, sub, , path] = row as string[];
    if (typeof name !== 'string') continue;
    if (typeof path === 'string') paths.remember(path, name);
    out.push({ name, load: String(load), active: String(active), sub: String(sub), mainPid: 0, needDaemonReload: false });
  }
  return out;
}

/** ListUnits: every unit systemd has in memory. mainPid and
 *  needDaemonReload are not part of ListUnits' answer and read as 0/false. */
export async function listUnits(bus: BusConnection, paths: UnitPaths): Promise<UnitStatus[]> {
  const [rows] = await bus.call({
    destination: SYSTEMD_BUS_NAME,
    path: MANAGER_PATH,
    iface: MANAGER_IFACE,
    member: 'ListUnits',
  });
  return rowsToStatuses(rows, paths);
}

/**
 * The status of units that have just been linked: one ListUnits to see which
 * of them systemd already had in memory (only those can be stale, and get the
 * full per-unit read), one ListUnitsByNames to load and read all the others.
 * 32 fresh units cost 2 calls instead of 160 property reads (~200 ms).
 * A unit systemd never had in memory cannot need a daemon-reload.
 */
export async function readFreshUnitStatuses(bus: BusConnection, paths: UnitPaths, names: readonly string[]): Promise<UnitStatus[]> {
  if (names.length === 0) return [];
  const inMemory = new Set((await listUnits(bus, paths)).map((u) => u.name));
  const known = names.filter((n) => inMemory.has(n));
  const fresh = names.filter((n) => !inMemory.has(n));
  const [byName, full] = await Promise.all([
    fresh.length === 0
      ? Promise.resolve([] as UnitStatus[])
      : bus.call({ destination: SYSTEMD_BUS_NAME, path: MANAGER_PATH, iface: MANAGER_IFACE, member: 'ListUnitsByNames', signature: 'as', body: [fresh] }).then(([rows]) => rowsToStatuses(rows, paths)),
    Promise.all(known.map((n) => readUnitStatus(bus, paths, n))),
  ]);
  const found = new Map([...byName, ...full].map((s) => [s.name, s]));
  return names.map((n) => found.get(n) ?? notFoundStatus(n));
}

/** The D-Bus interface that carries a unit type's `Result` property (targets and others have none). */
const RESULT_IFACES: Readonly<Record<string, string>> = {
  service: 'org.freedesktop.systemd1.Service',
  socket: 'org.freedesktop.systemd1.Socket',
  mount: 'org.freedesktop.systemd1.Mount',
  automount: 'org.freedesktop.systemd1.Automount',
  swap: 'org.freedesktop.systemd1.Swap',
  timer: 'org.freedesktop.systemd1.Timer',
  path: 'org.freedesktop.systemd1.Path',
  scope: 'org.freedesktop.systemd1.Scope',
};

/**
 * systemd's `Result` of a unit (why it last failed: "exit-code", "timeout",
 * "signal", ...; "success" otherwise), or undefined for types without one.
 */
export async function readUnitResult(bus: BusConnection, paths: UnitPaths, name: string): Promise<string | undefined> {
  const iface = RESULT_IFACES[name.slice(name.lastIndexOf('.') + 1)];
  if (iface === undefined) return undefined;
  const path = unitObjectPath(name);
  paths.remember(path, name);
  const v = await readProperty(bus, path, iface, 'Result');
  return typeof v === 'string' ? v : undefined;
}
