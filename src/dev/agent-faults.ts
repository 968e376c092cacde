/**
 * Faults of one host's flotillad: SIGSTOP/SIGCONT (a hung agent, or one cut
 * off long enough to lose its lease while its units keep running) and
 * SIGKILL (a crash; the host's systemd restarts it). Only the MainPID that
 * host's own systemd reports is signalled, and only while that PID still
 * lives in the host's cgroup: a remembered PID may have been reused.
 */
import { waitFor } from '../util/deadline.js';
import { InvalidInputError } from '../util/errors.js';
import { ownedBy } from './host.js';
import type { ClusterHost } from './cluster-dir.js';
import { hostSystemctl, signallablePid } from './host-control.js';
import { isStopped, killQuietly } from './procs.js';

/** MainPID of flotillad.service on the host; 0 when it is not running (or the host is down). */
export async function flotilladPid(host: ClusterHost): Promise<number> {
  const r = await hostSystemctl(host, ['show', '-p', 'MainPID', '--value', 'flotillad.service']);
  const pid = Number(r.stdout.trim());
  return r.code === 0 && Number.isInteger(pid) && pid > 0 ? signallablePid(host, pid) : 0;
}

export class AgentFaults {
  /** host name -> the PID we stopped there. */
  private readonly stopped = new Map<string, number>();

  /** SIGSTOP flotillad; resolves with its PID once the kernel has actually stopped it. */
  async pause(host: ClusterHost): Promise<number> {
    const pid = await this.runningPid(host);
    killQuietly(pid, 'SIGSTOP');
    this.stopped.set(host.name, pid);
    await waitFor(`flotillad ${pid} on ${host.name} to stop`, async () => ((await isStopped(pid)) ? true : undefined), { timeoutMs: 5_000, intervalMs: 5 });
    return pid;
  }

  /**
   * SIGCONT the PID paused earlier. False when it is gone meanwhile (killed,
   * or its systemd's watchdog gave up on it); resuming a host that was not
   * paused is a no-op.
   */
  async resume(host: ClusterHost): Promise<boolean> {
    const pid = this.stopped.get(host.name);
    if (pid === undefined) return true;
    this.stopped.delete(host.name);
    if (!(await ownedBy(host, pid))) return false;
    killQuietly(pid, 'SIGCONT');
    return true;
  }

  /** SIGKILL flotillad (paused or not); returns the PID killed. */
  async kill(host: ClusterHost): Promise<number> {
    const pid = await this.runningPid(host);
    killQuietly(pid, 'SIGKILL');
    this.stopped.delete(host.name);
    return pid;
  }

  isPaused(host: ClusterHost): boolean {
    return this.stopped.has(host.name);
  }

  /** A host that is powered off or restarted has no paused agent any more. */
  forget(host: ClusterHost): void {
    this.stopped.delete(host.name);
  }

  private async runningPid(host: ClusterHost): Promise<number> {
    const pid = await flotilladPid(host);
    if (pid <= 0) throw new InvalidInputError(`flotillad is not running on ${host.name}`);
    return pid;
  }
}
