/**
 * A typed client for one systemd manager (a `systemd --user` on its own
 * bus, in our test clusters) as the agent needs it: link/unlink unit
 * files, reload, start/stop and wait for the job, read and watch state.
 *
 * Everything goes over one D-Bus connection with raw messages; signals come
 * from four match rules set up at connect time (JobRemoved, UnitRemoved,
 * PropertiesChanged of every unit, and systemd's bus name owner).
 */
import { silentLogger, type Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { BusCallError, BusConnection, DISCONNECTED, type Signal } from './bus.js';
import { Coalescer } from '../util/coalesce.js';
import { JobTracker, type JobResult } from './jobs.js';
import { readFailedCommand } from './exec-status.js';
import { listUnits, readFreshUnitStatuses, readUnitResult, readUnitStatus } from './unit-status.js';
import { UnitChangeFeed, UnitPaths } from './unit-watch.js';
import {
  MANAGER_IFACE,
  MANAGER_PATH,
  PROPERTIES_IFACE,
  SYSTEMD_BUS_NAME,
  type UnitChangeListener,
  type UnitStatus,
} from './types.js';

export type { UnitStatus, UnitChange, UnitChangeListener } from './types.js';
export type { JobResult } from './jobs.js';
export { BusCallError } from './bus.js';
export { unitObjectPath, unitNameFromObjectPath } from './object-path.js';

const NO_SUCH_UNIT = 'org.freedesktop.systemd1.NoSuchUnit';
// Reload re-reads every unit file and only then replies; on a loaded host
// that can take seconds, far more than an ordinary call.
const RELOAD_TIMEOUT_MS = 120_000;

const MATCH_RULES = [
  `type='signal',sender='${SYSTEMD_BUS_NAME}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='JobRemoved'`,
  `type='signal',sender='${SYSTEMD_BUS_NAME}',path='${MANAGER_PATH}',interface='${MANAGER_IFACE}',member='UnitRemoved'`,
  `type='signal',sender='${SYSTEMD_BUS_NAME}',interface='${PROPERTIES_IFACE}',member='PropertiesChanged',path_namespace='${MANAGER_PATH}/unit'`,
  `type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${SYSTEMD_BUS_NAME}'`,
];

export class SystemdManager {
  private readonly jobs = new JobTracker();
  private readonly paths = new UnitPaths();
  private readonly feed: UnitChangeFeed;
  private readonly reloads: Coalescer;
  private readonly disconnectListeners = new Set<(err: Error) => void>();
  private closing = false;

  private constructor(
    private readonly bus: BusConnection,
    private readonly log: Logger,
  ) {
    this.feed = new UnitChangeFeed(this.paths, log);
    this.reloads = new Coalescer(async () => {
      await this.managerCall('Reload', '', [], RELOAD_TIMEOUT_MS);
    });
  }

  /** Connect to the bus at busAddress and Subscribe() to systemd's signals. */
  static async connect(busAddress: string, log: Logger = silentLogger()): Promise<SystemdManager> {
    const bus = await BusConnection.open(busAddress, log);
    const m = new SystemdManager(bus, log);
    try {
      await m.init();
    } catch (err) {
      bus.close();
      throw wrap(err, `cannot subscribe to systemd on ${busAddress}`);
    }
    log.debug({ busAddress }, 'connected to systemd');
    return m;
  }

  private async init(): Promise<void> {
    this.bus.onSignal((s) => this.onSignal(s));
    this.bus.onClose((err) => this.onClosed(err));
    // Matches first: a signal sent between Subscribe and AddMatch is lost.
    await Promise.all(MATCH_RULES.map((r) => this.bus.addMatch(r)));
    await this.managerCall('Subscribe');
  }

  /** True until the connection is gone (close(), bus died, systemd left). */
  get connected(): boolean {
    return !this.bus.closed;
  }

  async linkUnitFiles(paths: string[]): Promise<void> {
    await this.managerCall('LinkUnitFiles', 'asbb', [paths, true, true]).catch((err: unknown) => {
      throw wrap(err, `cannot link unit file(s) ${paths.join(', ')}`);
    });
  }

  /** Idempotent: names that are not linked are skipped, so an agent
   *  retrying an unload after a crash does not trip over its own work. */
  async disableUnitFiles(names: string[]): Promise<void> {
    try {
      await this.managerCall('DisableUnitFiles', 'asb', [names, true]);
      return;
    } catch (err) {
      if (!isNoSuchUnit(err)) throw wrap(err, `cannot disable unit file(s) ${names.join(', ')}`);
      if (names.length <= 1) return;
    }
    // systemd stops at the first missing name; do the rest one by one.
    for (const name of names) await this.disableUnitFiles([name]);
  }

  /** daemon-reload, coalesced (see Coalescer): safe to call per unit. */
  reload(): Promise<void> {
    return this.reloads.run().catch((err: unknown) => {
      throw wrap(err, 'systemd reload failed');
    });
  }

  /** How many Reload calls were actually sent (for tests and metrics). */
  get reloadCalls(): number {
    return this.reloads.started;
  }

  /** Jobs whose JobRemoved arrived before StartUnit/StopUnit's reply. */
  get jobsOvertaken(): number {
    return this.jobs.overtaken;
  }

  startUnit(name: string): Promise<JobResult> {
    return this.runJob('StartUnit', 'start', name);
  }

  /** RestartUnit: for a timer this re-arms its OnActiveSec countdown. */
  restartUnit(name: string): Promise<JobResult> {
    return this.runJob('RestartUnit', 'restart', name);
  }

  /** A unit systemd has not loaded is not running: that stops as 'done'
   *  instead of failing with NoSuchUnit. */
  async stopUnit(name: string): Promise<JobResult> {
    try {
      return await this.runJob('StopUnit', 'stop', name);
    } catch (err) {
      if (isNoSuchUnit(err)) return 'done';
      throw err;
    }
  }

  async resetFailedUnit(name: string): Promise<void> {
    try {
      await this.managerCall('ResetFailedUnit', 's', [name]);
    } catch (err) {
      // "Unit x not loaded": nothing to reset, which is what we wanted.
      if (isNoSuchUnit(err)) return;
      throw wrap(err, `cannot reset failed state of unit ${name}`);
    }
  }

  async unitStatus(name: string): Promise<UnitStatus> {
    try {
      return await readUnitStatus(this.bus, this.paths, name);
    } catch (err) {
      throw wrap(err, `cannot read state of unit ${name}`);
    }
  }

  /** systemd's Result property (why the unit last failed), undefined for types without one. */
  async unitResult(name: string): Promise<string | undefined> {
    try {
      return await readUnitResult(this.bus, this.paths, name);
    } catch (err) {
      throw wrap(err, `cannot read the result of unit ${name}`);
    }
  }

  /** The start command that failed (e.g. "ExecStartPre=/usr/bin/docker pull x exited with status 1"), if any. */
  async failedCommand(name: string): Promise<string | undefined> {
    try {
      return await readFailedCommand(this.bus, this.paths, name);
    } catch (err) {
      throw wrap(err, `cannot read the start commands of unit ${name}`);
    }
  }

  /** Status of units just linked, cheaply (see readFreshUnitStatuses). */
  async freshUnitStatuses(names: readonly string[]): Promise<UnitStatus[]> {
    try {
      return await readFreshUnitStatuses(this.bus, this.paths, names);
    } catch (err) {
      throw wrap(err, `cannot read state of units ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}`);
    }
  }

  async listUnits(): Promise<UnitStatus[]> {
    try {
      return await listUnits(this.bus, this.paths);
    } catch (err) {
      throw wrap(err, 'cannot list units');
    }
  }

  /** State changes of every unit; only fields that changed since the last
   *  event for that unit are present. Returns the unsubscribe function. */
  onUnitChange(listener: UnitChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  /** Called once when the connection ends for any reason other than close(). */
  onDisconnect(listener: (err: Error) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => {
      this.disconnectListeners.delete(listener);
    };
  }

  close(): void {
    this.closing = true;
    this.bus.close();
  }

  private async runJob(method: string, verb: string, name: string): Promise<JobResult> {
    let reply: unknown[];
    try {
      reply = await this.managerCall(method, 'ss', [name, 'replace']);
    } catch (err) {
      throw wrap(err, `cannot ${verb} unit ${name}`);
    }
    const jobPath = reply[0];
    if (typeof jobPath !== 'string') {
      throw new BusCallError(`cannot ${verb} unit ${name}: systemd returned no job`, 'flotilla.BadReply');
    }
    let result: JobResult;
    try {
      result = await this.jobs.wait(jobPath);
    } catch (err) {
      throw wrap(err, `${verb} of unit ${name} interrupted, outcome unknown`);
    }
    this.log.debug({ unit: name, job: jobPath, result }, `${verb} job finished`);
    return result;
  }

  private managerCall(member: string, signature = '', body: unknown[] = [], timeoutMs?: number): Promise<unknown[]> {
    return this.bus.call({
      destination: SYSTEMD_BUS_NAME,
      path: MANAGER_PATH,
      iface: MANAGER_IFACE,
      member,
      signature,
      body,
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  }

  private onSignal(s: Signal): void {
    if (s.iface === MANAGER_IFACE) {
      if (s.member === 'JobRemoved') {
        // (id u, job o, unit s, result s)
        const [, job, , result] = s.body;
        if (typeof job === 'string' && typeof result === 'string') this.jobs.removed(job, result);
      } else if (s.member === 'UnitRemoved') {
        const [unit] = s.body;
        if (typeof unit === 'string') this.feed.unitRemoved(unit);
      }
      return;
    }
    if (s.member === 'NameOwnerChanged') {
      const [name, , newOwner] = s.body;
      if (name === SYSTEMD_BUS_NAME && newOwner === '') {
        // Our Subscribe and every queued job died with that process; the
        // caller has to connect again once systemd is back.
        this.bus.close(new BusCallError('systemd left the bus', DISCONNECTED));
      }
      return;
    }
    this.feed.handle(s);
  }

  private onClosed(err: Error): void {
    this.jobs.failAll(err);
    const listeners = [...this.disconnectListeners];
    this.disconnectListeners.clear();
    if (this.closing) return;
    this.log.warn({ err: err.message }, 'lost connection to systemd');
    for (const l of listeners) {
      try {
        l(err);
      } catch (e) {
        this.log.error({ err: errorMessage(e) }, 'disconnect listener failed');
      }
    }
  }
}

function isNoSuchUnit(err: unknown): boolean {
  return err instanceof BusCallError && err.dbusName === NO_SUCH_UNIT;
}

function errName(err: unknown): string {
  return err instanceof BusCallError ? err.dbusName : DISCONNECTED;
}

/** Name the thing that failed and keep systemd's own words and error name. */
function wrap(err: unknown, what: string): BusCallError {
  const name = errName(err);
  return new BusCallError(`${what}: ${errorMessage(err)} (${name})`, name);
}
