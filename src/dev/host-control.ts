/**
 * What the cluster does to a host, whichever kind it is: a simulated host
 * (systemd --user, host.ts) or a booted one (systemd-nspawn, boot/). One
 * place decides, so the cluster, the agent faults and the tests never ask.
 */
import type { ClusterHost } from './cluster-dir.js';
import type { RunResult } from './exec.js';
import { fileTail, type AgentWaitTarget } from './agents.js';
import { killHost, ownedBy, systemctl } from './host.js';
import { flotilladJournal } from './boot/booted-host.js';
import { unmountHostRoot } from './boot/host-root.js';
import { execIn, killContainer, machinePid } from './boot/nspawn.js';

/** systemctl against the host's own manager (`--user` for a simulated host, PID 1's on a booted one). */
export function hostSystemctl(h: ClusterHost, args: string[]): Promise<RunResult> {
  return h.boot ? execIn(h.boot.initPid, ['systemctl', ...args]) : systemctl(h, args);
}

/** Power loss: the host's manager, flotillad and units die at once. A booted host keeps its disk. */
export async function powerOff(h: ClusterHost): Promise<void> {
  if (h.boot) await killContainer(h.cgroupPaths);
  else await killHost(h);
}

/** Power loss, then the host's disk goes too (teardown). */
export async function removeHost(h: ClusterHost): Promise<void> {
  await powerOff(h);
  if (h.boot) await unmountHostRoot(h.boot);
}

/** A PID the host's manager reported (e.g. MainPID), as a PID the machine can signal; 0 if none. */
export async function signallablePid(h: ClusterHost, pid: number): Promise<number> {
  const p = h.boot ? await machinePid(h.cgroupPaths, pid) : pid;
  return (await ownedBy(h, p)) ? p : 0;
}

export function agentWaitTarget(h: ClusterHost): AgentWaitTarget {
  const boot = h.boot;
  return {
    name: h.name,
    machineId: h.machineId,
    logHint: boot ? `its journal: nsenter -t ${boot.initPid} -a journalctl -u flotillad` : h.logPath,
    logTail: () => (boot ? flotilladJournal(boot.initPid) : fileTail(h.logPath)),
    unitState: async () => (await hostSystemctl(h, ['show', '-p', 'ActiveState', '--value', 'flotillad.service'])).stdout.trim(),
  };
}
