/**
 * A booted host as a member of a LocalCluster: prepared (its own root),
 * given flotillad from the release or left bare for its own bootstrap,
 * booted, and described as a ClusterHost (cluster.json) so every cluster
 * operation and test helper finds it as it finds a simulated host.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootSetup, ClusterHost } from '../cluster-dir.js';
import { bootHost, installRelease, prepareBootedHost, systemBusAddress, type PreparedHost } from './booted-host.js';
import { killContainer } from './nspawn.js';
import { hostRootPaths, unmountHostRoot } from './host-root.js';
import { sliceDirs } from '../cgroups.js';

export interface BootedHostOptions {
  /**
   * 'release' (default): flotillad installed from the release and enabled.
   * 'none': a bare host on its first boot (/etc/machine-id "uninitialized").
   */
  install?: 'release' | 'none';
  /** Called with the unbooted host's root mounted: write a cloud-init seed, apply Ignition, ... */
  beforeBoot?: (host: PreparedHost) => Promise<void>;
}

export interface BootContext {
  setup: BootSetup;
  /** flotillad.conf lines every installed host gets (etcd, prefix, TTL, metadata). */
  config: (name: string) => Record<string, string>;
  extraConfig: Record<string, string>;
}

function describe(p: PreparedHost, index: number, install: 'release' | 'none', booted: Awaited<ReturnType<typeof bootHost>>): ClusterHost {
  const { initPid, nspawnPid } = booted.container;
  return {
    name: p.name,
    dir: join(p.paths.root, '..'),
    busAddress: systemBusAddress(initPid),
    runtimeDir: `/proc/${initPid}/root/run`,
    configDir: join(p.root, 'etc'),
    env: {},
    systemdPid: initPid,
    dbusPid: 0,
    cgroupPaths: booted.cgroupPaths,
    index,
    machineId: p.machineId,
    publicIP: p.publicIP,
    configPath: join(p.root, 'etc', 'flotilla', 'flotillad.conf'),
    unitsDir: `/proc/${initPid}/root/run/flotilla/units`,
    logPath: p.consoleLog,
    sshPort: p.sshPort,
    sshHostKey: p.sshHostKey,
    boot: { ...p.paths, machine: p.machine, nspawnPid, initPid, consoleLog: p.consoleLog, install },
  };
}

/** Prepare, install (or not), boot; the host is killed again if booting fails. */
export async function startBootedHost(
  ctx: BootContext,
  host: { dir: string; name: string; index: number; slice: string; publicIP: string; sshPort: number; authorizedKey: string },
  opts: BootedHostOptions = {},
): Promise<{ host: ClusterHost; bootMs: number }> {
  const install = opts.install ?? 'release';
  const paths = hostRootPaths(host.dir, ctx.setup.rootfs);
  try {
    const prepared = await prepareBootedHost({ ...host, lower: ctx.setup.rootfs });
    if (install === 'release') {
      await installRelease(prepared, { tarball: ctx.setup.tarball, config: ctx.config(host.name), extraConfig: ctx.extraConfig });
    } else {
      // A freshly provisioned machine: systemd's first boot (presets applied, ConditionFirstBoot=yes),
      // which Ignition's preset-enabled units rely on. The id still comes from nspawn --uuid.
      await writeFile(join(prepared.root, 'etc', 'machine-id'), 'uninitialized\n');
    }
    await opts.beforeBoot?.(prepared);
    return await powerOnBooted(prepared, host.index, install);
  } catch (err) {
    // Not recorded in cluster.json yet, so teardown would never find its mounts.
    await unmountHostRoot(paths).catch(() => undefined);
    throw err;
  }
}

async function powerOnBooted(p: PreparedHost, index: number, install: 'release' | 'none'): Promise<{ host: ClusterHost; bootMs: number }> {
  let booted;
  try {
    booted = await bootHost(p);
  } catch (err) {
    // Clean-up after a failed boot: the boot's error is rethrown below, not this one.
    await killContainer(await sliceDirs(p.slice)).catch(() => undefined);
    throw err;
  }
  return { host: describe(p, index, install, booted), bootMs: booted.bootMs };
}

/** Power a booted host on again after power loss: same disk, machine id and address. */
export async function rebootHost(h: ClusterHost): Promise<ClusterHost> {
  const b = h.boot;
  if (!b) throw new Error(`${h.name} is not a booted host`);
  const prepared: PreparedHost = {
    name: h.name,
    machineId: h.machineId,
    publicIP: h.publicIP,
    sshPort: h.sshPort ?? 22,
    sshHostKey: h.sshHostKey ?? '',
    root: b.root,
    paths: { root: b.root, disk: b.disk, lower: b.lower },
    machine: b.machine,
    slice: h.cgroupPaths[0]?.split('/').pop() ?? '',
    consoleLog: b.consoleLog,
  };
  const { host } = await powerOnBooted(prepared, h.index, b.install);
  return host;
}
