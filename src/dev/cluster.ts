/**
 * LocalCluster: etcd plus N simulated systemd hosts, each running flotillad
 * as a unit of its own systemd, all on this machine. Used by `flotillad dev`,
 * the integration tests and benchmarks. Everything it starts is recorded in
 * <dir>/cluster.json so another process can attach and tear it down, and
 * teardown signals only what it started: recorded etcd members (by data dir)
 * and the contents of the hosts' own cgroups.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PREFIX, normalizePrefix } from '../registry/keys.js';
import { InvalidInputError, FlotillaError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { AgentFaults, flotilladPid } from './agent-faults.js';
import { currentRevision, engineMachine, waitForAgents, type AgentWaitTarget } from './agents.js';
import { loadState, prepareDir, removeState, saveState, type ClusterHost, type SavedCluster } from './cluster-dir.js';
import { attachEtcd, startEtcd, type EtcdCluster } from './etcd.js';
import { EtcdProxies } from './etcd-proxies.js';
import { CONTAINERD_UNIT, DOCKER_UNIT, dockerEnv, dockerPaths, removeDockerData, writeDockerFiles } from './docker.js';
import { hostEnv, hostPaths, hostSlice, killHost, startHost, systemctl, type HostProcess } from './host.js';
import { agentWaitTarget, hostSystemctl, powerOff, removeHost } from './host-control.js';
import { ensureRootfs } from './boot/rootfs.js';
import { rebootHost, startBootedHost, type BootedHostOptions } from './boot/cluster-host.js';
import { execIn } from './boot/nspawn.js';
import { apiSocketPath, publicIPFor, writeAgentFiles } from './host-files.js';
import { devImageSpecs, imageRefs, pushDevImages, renderImagesEnv, saveToCache, seedFromCache } from './images.js';
import { registryStorage, startRegistry, stopRegistry } from './registry.js';
import { findExecutable, type RunResult } from './exec.js';
import { SSHD_UNIT, type ClientKey, accepts, ensureClientKey, freeSshPort, writeKnownHosts, writeSshdFiles } from './ssh.js';
import { waitFor } from '../util/deadline.js';
import type { PartitionMode } from './proxy.js';
import type { DevImages } from './images.js';
import { connectStore, type StoreOptions } from '../registry/store.js';
import type { Etcd3 } from 'etcd3';
import { enableAuth, prepareSecureStore, secureConfig, secureFlotctlEnv, serverTls, storeSecurity } from './secure-store.js';

export type { ClusterHost } from './cluster-dir.js';
export type { PartitionMode } from './proxy.js';
export type { DevImages } from './images.js';
export type { BootedHostOptions } from './boot/cluster-host.js';
export type { PreparedHost } from './boot/booted-host.js';

export interface ClusterOptions {
  dir: string;
  hosts: number;
  ttlSeconds?: number;
  etcdMembers?: 1 | 3;
  /** --heartbeat-interval=20 --election-timeout=200; default: on for 1 member, off for 3. */
  fastElection?: boolean;
  prefix?: string;
  extraConfig?: Record<string, string>;
  /** Default true: resolve only once every agent has registered in etcd. */
  waitForAgents?: boolean;
  /**
   * Route these hosts' flotillad (true: every host's, also added ones) to
   * etcd through pausable proxies, so partition(i) can cut them off. The
   * proxies live in this process: other processes may attach only to tear down.
   */
  etcdProxy?: boolean | number[];
  /**
   * A Docker engine per host (containerd.service and docker.service in the
   * host's systemd, DOCKER_HOST in its environment), a registry on loopback
   * and images built from local files in it. Off by default: it costs a few
   * seconds and ~100 MB per host.
   */
  docker?: boolean;
  /** Machine metadata per host index, besides hostname=<name>; hosts past the list get only that. */
  metadata?: Array<Record<string, string>>;
  /**
   * Whole systems instead of systemd --user hosts: systemd-nspawn over the
   * cached Debian rootfs, systemd as PID 1, flotillad installed from the
   * release tarball as a system service (systemd_scope=system).
   */
  boot?: boolean;
  /** etcd requires TLS client certificates and a password (`flotillad dev --secure`). */
  secure?: boolean;
  log?: Logger;
}

export interface AddHostOptions extends BootedHostOptions {
  /** Default: the cluster's waitForAgents. A bare booted host's agent comes only if its bootstrap installs one. */
  waitForAgent?: boolean;
}

const MAX_HOSTS = 200;
const AGENT_TIMEOUT_MS = 30_000;

export class LocalCluster {
  private readonly proxies: EtcdProxies;
  private readonly agents = new AgentFaults();
  private clientKey: Promise<ClientKey> | undefined;

  private constructor(
    private readonly saved: SavedCluster,
    readonly etcd: EtcdCluster,
    private readonly log: Logger,
  ) {
    this.proxies = new EtcdProxies(() => this.endpoints);
  }

  get dir(): string { return this.saved.dir; }
  get prefix(): string { return this.saved.prefix; }
  get hosts(): ClusterHost[] { return this.saved.hosts; }
  get endpoints(): string[] { return this.etcd.endpoints; }

  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    if (!Number.isInteger(opts.hosts) || opts.hosts < 0 || opts.hosts > MAX_HOSTS) {
      throw new InvalidInputError(`hosts must be a whole number from 0 to ${MAX_HOSTS}, not ${opts.hosts}`);
    }
    const ttl = opts.ttlSeconds ?? 10;
    if (!(ttl >= 2 && ttl <= 3600)) throw new InvalidInputError(`ttl must be 2 to 3600 seconds (etcd raises shorter leases to 2 s), not ${ttl}`);
    if (opts.boot && process.getuid?.() !== 0) throw new InvalidInputError('booted hosts need root (overlay mounts, systemd-nspawn): run as root, or without boot');
    const dir = resolve(opts.dir);
    const log = opts.log ?? silentLogger();
    await prepareDir(dir, (stale) => LocalCluster.fromState(stale, log).down());

    const t0 = Date.now();
    const members = opts.etcdMembers ?? 1;
    const prefix = normalizePrefix(opts.prefix ?? DEFAULT_PREFIX);
    const secure = opts.secure ? await prepareSecureStore(dir) : undefined;
    // A lone member has no peers to lose, so fast election only saves the ~0.8 s first election;
    // three members keep etcd's defaults unless asked, as a busy 2-core machine would see false elections.
    // The rootfs (built once per machine) and the release are ready before any host needs them.
    const bootSetup = opts.boot ? LocalCluster.bootSetup(log) : undefined;
    // Awaited (and its failure thrown) where a host needs it; this only keeps an early failure from being unhandled.
    bootSetup?.catch(() => undefined);
    const etcd = await startEtcd({ dir: join(dir, 'etcd'), members, fastElection: opts.fastElection ?? members === 1, ...(secure ? { tls: serverTls(secure) } : {}) });
    if (secure) {
      try {
        await enableAuth(secure, etcd.endpoints, prefix);
      } catch (err) {
        // Clean-up: the auth failure is what the caller needs.
        await etcd.stop().catch(() => undefined);
        throw err;
      }
    }
    log.info({ ms: Date.now() - t0, endpoints: etcd.endpoints.join(','), secure: Boolean(secure) }, 'etcd ready');
    const cluster = new LocalCluster({
      version: 1,
      dir,
      prefix,
      ttlSeconds: ttl,
      extraConfig: { ...(opts.extraConfig ?? {}) },
      waitForAgents: opts.waitForAgents ?? true,
      ...(opts.etcdProxy ? { etcdProxy: opts.etcdProxy } : {}),
      ...(opts.metadata ? { metadata: opts.metadata.map((m) => ({ ...m })) } : {}),
      ...(secure ? { secure } : {}),
      etcd: etcd.state(),
      hosts: [],
    }, etcd, log);
    try {
      if (opts.docker) {
        const registryDir = join(dir, 'registry');
        const seeded = await seedFromCache(registryStorage(registryDir), await devImageSpecs());
        const registry = await startRegistry(registryDir);
        cluster.saved.docker = { registry, ...(seeded ? { images: imageRefs(registry.address, await devImageSpecs()) } : {}) };
        log.info({ registry: registry.address, cachedImages: seeded }, 'image registry ready');
      }
      if (bootSetup) cluster.saved.boot = await bootSetup;
      await cluster.persist();
      const t1 = Date.now();
      // allSettled, not all: hosts that did start must be recorded so teardown finds them.
      const results = await Promise.allSettled(Array.from({ length: opts.hosts }, (_, i) => cluster.bootHost(i)));
      const added = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      cluster.saved.hosts.push(...added);
      await cluster.persist();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      log.info({ ms: Date.now() - t1, hosts: added.length }, 'hosts started');
      if (cluster.saved.docker && !cluster.saved.docker.images && added.length > 0) await cluster.publishImages();
      if (cluster.saved.waitForAgents) await cluster.waitAgents(added);
      log.info({ ms: Date.now() - t0 }, 'cluster ready');
      return cluster;
    } catch (err) {
      await cluster.down().catch((e: unknown) => log.error({ err: String(e) }, 'teardown after failed start'));
      throw err;
    }
  }

  private static async bootSetup(log: Logger): Promise<NonNullable<SavedCluster['boot']>> {
    // Loaded here, not at the top: the release builder needs esbuild, which a release does not carry.
    const { ensureRelease } = await import('../release/build.js');
    const [rootfs, release] = await Promise.all([ensureRootfs({ log: (m) => log.info(m) }), ensureRelease(undefined, (m) => log.info(m))]);
    if (rootfs.built) log.info({ ms: rootfs.ms, path: rootfs.path }, 'rootfs built');
    return { rootfs: rootfs.path, tarball: release.tarball, sha256: release.sha256 };
  }

  /** The release tarball booted hosts install (and its sha256), for tests that serve it to a bootstrap. */
  get release(): { tarball: string; sha256: string } | undefined {
    const b = this.saved.boot;
    return b ? { tarball: b.tarball, sha256: b.sha256 } : undefined;
  }

  /** Reattach to a cluster started by another process (from <dir>/cluster.json). */
  static async attach(dir: string): Promise<LocalCluster> {
    const abs = resolve(dir);
    const saved = await loadState(abs);
    if (!saved) throw new FlotillaError(`no dev cluster in ${abs} (no cluster.json)`);
    return LocalCluster.fromState(saved, silentLogger());
  }

  private static fromState(saved: SavedCluster, log: Logger): LocalCluster {
    return new LocalCluster(saved, attachEtcd(saved.etcd), log);
  }

  flotctlEnv(): Record<string, string> {
    const ssh = join(this.dir, 'ssh');
    return {
      // etcd's endpoints: the driver must say so (the default is flotillad's API).
      FLOTCTL_DRIVER: 'etcd',
      FLOTCTL_ENDPOINT: this.endpoints.join(','),
      FLOTCTL_ETCD_KEY_PREFIX: this.prefix,
      // The hosts' sshd let in the user who started the cluster, with the cluster's own key.
      // A booted host's sshd lets root in.
      FLOTCTL_SSH_USERNAME: this.saved.boot ? 'root' : userInfo().username,
      FLOTCTL_SSH_IDENTITY: join(ssh, 'id_ed25519'),
      FLOTCTL_KNOWN_HOSTS_FILE: join(ssh, 'known_hosts'),
      ...(this.saved.secure ? secureFlotctlEnv(this.saved.secure) : {}),
    };
  }

  /** Where the cluster's password lives (`--secure` only), so it can be printed as $(cat FILE). */
  get passwordFile(): string | undefined {
    return this.saved.secure?.passwordFile;
  }

  /** How a client of this cluster's etcd connects: endpoints, and TLS material and user when secured. */
  store(): StoreOptions {
    const security = storeSecurity(this.saved.secure);
    return { endpoints: this.endpoints, ...(security ? { security } : {}) };
  }

  /** A client of this cluster's etcd (close it when done). */
  connect(): Etcd3 {
    return connectStore(this.store());
  }

  /** Image references in the cluster's registry (undefined without docker, or before any host ran). */
  get images(): DevImages | undefined { return this.saved.docker?.images; }

  /** host:port of the cluster's image registry (undefined without docker). */
  get registry(): string | undefined { return this.saved.docker?.registry.address; }

  /**
   * A host joining later; waits for its agent if the cluster was started
   * that way. On a booted cluster, `install: 'none'` and `beforeBoot` make a
   * bare host whose own bootstrap (cloud-init, Ignition) installs flotillad.
   */
  async addHost(opts: AddHostOptions = {}): Promise<ClusterHost> {
    if (!this.saved.boot && (opts.install || opts.beforeBoot)) throw new InvalidInputError('install and beforeBoot need a booted cluster (boot: true)');
    const host = await this.bootHost(this.saved.hosts.length, opts);
    this.saved.hosts.push(host);
    await this.persist();
    if (this.saved.docker && !this.saved.docker.images) await this.publishImages();
    if (opts.waitForAgent ?? this.saved.waitForAgents) await this.waitAgents([host]);
    return host;
  }

  /**
   * The unix socket host i's flotillad serves the API on; undefined for a
   * booted host, whose socket is inside its own /run.
   */
  apiSocket(i: number): string | undefined {
    const h = this.host(i);
    return h.boot ? undefined : apiSocketPath(h.dir);
  }

  /** Run a command inside booted host i, as root, in all of its namespaces. */
  exec(i: number, argv: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const h = this.host(i);
    if (!h.boot) throw new InvalidInputError(`${h.name} is not a booted host: use systemctl(${i}, ...)`);
    return execIn(h.boot.initPid, argv, opts);
  }

  /** Power loss of host i: its systemd, flotillad, units and dbus-daemon die at once. */
  async killHost(i: number): Promise<void> {
    this.agents.forget(this.host(i));
    await powerOff(this.host(i));
  }

  /**
   * Power host i back on after killHost: same dir, machine id and config, new
   * systemd and dbus-daemon; flotillad starts again. A running host is killed first.
   */
  async restartHost(i: number): Promise<ClusterHost> {
    const old = this.host(i);
    this.agents.forget(old);
    await powerOff(old);
    const revision = this.saved.waitForAgents ? await currentRevision(this.store(), this.prefix) : 0;
    const host: ClusterHost = old.boot
      ? await rebootHost(old)
      : { ...old, ...(await this.powerOn(old.name, old.dir, this.hostEnvExtra(old.index, old.dir), old.sshPort ? { address: old.publicIP, port: old.sshPort } : undefined)) };
    this.saved.hosts[i] = host;
    await this.persist();
    if (this.saved.waitForAgents) await this.waitAgents([host], revision);
    return host;
  }

  /** MainPID of flotillad.service on host i; 0 when it is not running (or the host is down). */
  flotilladPid(i: number): Promise<number> {
    return flotilladPid(this.host(i));
  }

  /** SIGSTOP host i's flotillad: it holds its units but renews nothing. Returns its PID. */
  pauseAgent(i: number): Promise<number> {
    return this.agents.pause(this.host(i));
  }

  /** SIGCONT what pauseAgent stopped; false if that process has gone meanwhile. */
  resumeAgent(i: number): Promise<boolean> {
    return this.agents.resume(this.host(i));
  }

  /** Whether pauseAgent(i) stopped host i's flotillad and nothing has resumed or killed it since. */
  agentPaused(i: number): boolean {
    return this.agents.isPaused(this.host(i));
  }

  /** SIGKILL host i's flotillad (paused or not); its systemd restarts it. Returns the killed PID. */
  killAgent(i: number): Promise<number> {
    return this.agents.kill(this.host(i));
  }

  /** SIGKILL etcd member k (a crash); the others keep quorum if there are three. */
  async killEtcdMember(k: number): Promise<void> {
    await this.etcd.killMember(k);
  }

  /** Start etcd member k again on its data dir; resolves once it reports healthy. */
  async restartEtcdMember(k: number): Promise<void> {
    await this.etcd.restartMember(k);
    await this.persist();
  }

  /**
   * Whole-store outage: SIGKILL every etcd member. Hosts, their agents and
   * units keep running; nothing can reach etcd until restartEtcd().
   */
  async killEtcd(): Promise<void> {
    await this.etcd.killAll();
  }

  /** End a whole-store outage: every member starts on its data dir; resolves once all are healthy. */
  async restartEtcd(): Promise<void> {
    await this.etcd.restartAll();
    await this.persist();
  }

  /** Index of the host whose flotillad is the elected engine, or undefined if none is. */
  async engineHost(): Promise<number | undefined> {
    const machine = await engineMachine(this.store(), this.prefix);
    const i = this.saved.hosts.findIndex((h) => h.machineId === machine);
    return i >= 0 ? i : undefined;
  }

  /**
   * Cut host i's flotillad off from etcd (see TcpProxy for the modes). Only
   * etcd is cut: the host's systemd, and the tests' view of it, keep working.
   */
  partition(i: number, mode: PartitionMode = 'blackhole'): void {
    this.proxies.partition(this.host(i).name, mode);
  }

  heal(i: number): void {
    this.proxies.heal(this.host(i).name);
  }

  /** How host i is cut off from etcd, or undefined while it is not. */
  partitioned(i: number): PartitionMode | undefined {
    return this.proxies.partitioned(this.host(i).name);
  }

  /** systemctl against host i's own manager (its systemd --user, or a booted host's PID 1). */
  systemctl(i: number, args: string[]): Promise<RunResult> {
    return hostSystemctl(this.host(i), args);
  }

  /**
   * Everything gone: hosts (by cgroup) and etcd members (by data dir), the
   * sockets, etcd data and cluster.json. Configs and logs stay for post-mortems.
   */
  async down(): Promise<void> {
    const errors: unknown[] = [];
    const settle = async (p: Promise<unknown>): Promise<void> => { await p.catch((e: unknown) => { errors.push(e); }); };
    await Promise.all(this.saved.hosts.map((h) => settle(removeHost(h).then(() => removeDockerData(h.dir)))));
    if (this.saved.docker) await settle(stopRegistry(this.saved.docker.registry));
    await settle(this.proxies.closeAll());
    await settle(this.etcd.stop());
    for (const m of this.etcd.members) await settle(rm(m.dataDir, { recursive: true, force: true }));
    if (errors.length === 0) await removeState(this.dir);
    if (errors.length > 0) throw errors[0];
    this.log.info({ dir: this.dir }, 'cluster down');
  }

  private host(i: number): ClusterHost {
    const h = this.saved.hosts[i];
    if (!h) throw new InvalidInputError(`host index ${i} does not exist (hosts are 0 to ${this.saved.hosts.length - 1})`);
    return h;
  }

  private async persist(): Promise<void> {
    this.saved.etcd = this.etcd.state();
    await saveState(this.saved);
    await writeKnownHosts(join(this.dir, 'ssh', 'known_hosts'), this.saved.hosts);
  }

  /** Host key, config and unit for the host's sshd; undefined (with a warning) when sshd is not installed. */
  private async prepareSshd(index: number, hostDir: string, userUnitsDir: string, extraEnv: Record<string, string>): Promise<{ sshPort: number; sshHostKey: string } | undefined> {
    let sshdPath: string;
    try {
      sshdPath = await findExecutable('sshd', ['/usr/sbin/sshd']);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'no sshd: flotctl status, journal and ssh will not reach the dev hosts');
      return undefined;
    }
    const address = publicIPFor(index);
    // Hosts boot in parallel: one promise, so they all authorize the same key.
    this.clientKey ??= ensureClientKey(this.dir);
    const client = await this.clientKey;
    const sshPort = await freeSshPort(address);
    const sshHostKey = await writeSshdFiles({
      hostDir,
      address,
      port: sshPort,
      userUnitsDir,
      sessionEnv: { ...hostEnv(hostDir), ...extraEnv },
      authorizedKey: client.publicKey,
      sshdPath,
    });
    return { sshPort, sshHostKey };
  }

  /** Files first, then the host's systemd (which then finds flotillad.service without a reload). */
  private async bootHost(index: number, opts: BootedHostOptions = {}): Promise<ClusterHost> {
    const name = `host${index + 1}`;
    const hostDir = join(this.dir, name);
    if (this.saved.boot) return this.bootBootedHost(index, name, hostDir, this.saved.boot, opts);
    const paths = hostPaths(hostDir);
    const proxy = this.saved.etcdProxy;
    const proxied = proxy === true || (Array.isArray(proxy) && proxy.includes(index));
    const env = this.hostEnvExtra(index, hostDir);
    const userUnits = join(paths.configDir, 'systemd', 'user');
    const sshd = await this.prepareSshd(index, resolve(hostDir), userUnits, env);
    if (this.saved.docker) {
      await writeDockerFiles(resolve(hostDir), userUnits, hostSlice(name, resolve(hostDir)));
      if (this.saved.docker.images) await this.writeImagesEnv(paths.configDir, this.saved.docker.images);
    }
    const files = await writeAgentFiles({
      hostDir,
      index,
      name,
      endpoints: proxied ? await this.proxies.endpointsFor(name) : this.endpoints,
      prefix: this.prefix,
      ttlSeconds: this.saved.ttlSeconds,
      busAddress: paths.busAddress,
      configDir: paths.configDir,
      extraConfig: { ...(this.saved.secure ? secureConfig(this.saved.secure) : {}), ...this.saved.extraConfig },
      ...(this.saved.metadata?.[index] ? { metadata: this.saved.metadata[index] } : {}),
      ...(sshd ? { sshPort: sshd.sshPort } : {}),
    });
    const host: ClusterHost = { ...(await this.powerOn(name, hostDir, env, sshd ? { address: files.publicIP, port: sshd.sshPort } : undefined)), index, ...files, ...sshd };
    this.log.debug({ host: name, machineId: host.machineId }, 'host started');
    return host;
  }

  /**
   * What a unit on host i finds in its environment besides HOME and XDG_*:
   * the host's address as CoreOS's /etc/environment gave it, the cluster's
   * etcd for etcdctl (a CoreOS host's own etcd), and its Docker engine.
   */
  private hostEnvExtra(index: number, hostDir: string): Record<string, string> {
    return {
      COREOS_PUBLIC_IPV4: publicIPFor(index),
      ETCDCTL_ENDPOINTS: this.endpoints.join(','),
      ...(this.saved.docker ? dockerEnv(resolve(hostDir)) : {}),
    };
  }

  private async writeImagesEnv(configDir: string, images: DevImages): Promise<void> {
    await mkdir(join(configDir, 'flotilla'), { recursive: true });
    await writeFile(join(configDir, 'flotilla', 'images.env'), renderImagesEnv(images));
  }

  /** Build the dev images, push them to the registry through the first host's engine, tell every host. */
  private async publishImages(): Promise<void> {
    const docker = this.saved.docker;
    const first = this.saved.hosts[0];
    if (!docker || !first) return;
    const t0 = Date.now();
    const specs = await devImageSpecs();
    docker.images = await pushDevImages(docker.registry.address, specs, dockerEnv(first.dir).DOCKER_HOST as string, join(this.dir, 'images'));
    await saveToCache(registryStorage(docker.registry.dir), specs);
    for (const h of this.saved.hosts) await this.writeImagesEnv(h.configDir, docker.images);
    await this.persist();
    this.log.info({ ms: Date.now() - t0, ...docker.images }, 'images pushed');
  }

  private async bootBootedHost(index: number, name: string, hostDir: string, setup: NonNullable<SavedCluster['boot']>, opts: BootedHostOptions): Promise<ClusterHost> {
    this.clientKey ??= ensureClientKey(this.dir);
    const client = await this.clientKey;
    const publicIP = publicIPFor(index);
    const proxy = this.saved.etcdProxy;
    const proxied = proxy === true || (Array.isArray(proxy) && proxy.includes(index));
    const endpoints = proxied ? await this.proxies.endpointsFor(name) : this.endpoints;
    const t0 = Date.now();
    const { host, bootMs } = await startBootedHost({
      setup,
      config: (n) => ({
        etcd_servers: endpoints.join(','),
        etcd_key_prefix: this.prefix,
        metadata: `hostname=${n}`,
        agent_ttl: String(this.saved.ttlSeconds),
        log_format: 'text',
      }),
      extraConfig: { ...(this.saved.secure ? secureConfig(this.saved.secure) : {}), ...this.saved.extraConfig },
    }, {
      dir: resolve(hostDir),
      name,
      index,
      slice: hostSlice(name, resolve(hostDir)),
      publicIP,
      sshPort: await freeSshPort(publicIP),
      authorizedKey: client.publicKey,
    }, opts);
    this.log.info({ host: name, machineId: host.machineId, bootMs, ms: Date.now() - t0 }, 'host booted');
    return host;
  }

  private async powerOn(name: string, hostDir: string, env: Record<string, string>, sshd: { address: string; port: number } | undefined): Promise<HostProcess> {
    const host = await startHost({ dir: hostDir, name, env });
    try {
      if (sshd) {
        // Type=simple returns before sshd listens; the first flotctl ssh must not race it.
        // A host whose sshd cannot listen (its port taken meanwhile) still runs everything
        // else: only status/journal/ssh cannot reach it, and the warning says why.
        const ssh = await systemctl(host, ['start', SSHD_UNIT]);
        const listening = ssh.code === 0 && (await waitFor(`${name}'s sshd`, async () => ((await accepts(sshd.address, sshd.port)) ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 }).catch(() => false));
        if (!listening) this.log.warn({ host: name, address: `${sshd.address}:${sshd.port}`, log: join(hostDir, 'sshd', 'sshd.log') }, 'sshd is not listening: flotctl status, journal and ssh cannot reach this host');
      }
      // Docker first when asked for: the cluster is not ready, and units needing it not startable, without it.
      if (this.saved.docker) await this.startDocker(host);
      const r = await systemctl(host, ['start', 'flotillad.service']);
      // With Restart=on-failure a missing or crashing daemon is not an error here; the agent wait reports it.
      if (r.code !== 0) this.log.warn({ host: name, stderr: r.stderr.trim() }, 'flotillad.service did not start');
      return host;
    } catch (err) {
      // Clean-up of a host that failed to start: the start's error is rethrown.
      await killHost(host).catch(() => undefined);
      throw err;
    }
  }

  /** docker.service (which pulls in containerd.service) answers once it has told systemd it is ready (Type=notify). */
  private async startDocker(host: HostProcess): Promise<void> {
    const t0 = Date.now();
    const r = await systemctl(host, ['start', DOCKER_UNIT]);
    if (r.code !== 0) {
      const p = dockerPaths(host.dir);
      throw new FlotillaError(`${host.name}: ${DOCKER_UNIT} or ${CONTAINERD_UNIT} did not start (${r.stderr.trim()}); see ${join(p.dir, 'dockerd.log')} and ${join(p.dir, 'containerd.log')}`);
    }
    this.log.debug({ host: host.name, ms: Date.now() - t0 }, 'docker ready');
  }

  private async waitAgents(hosts: ClusterHost[], afterRevision = 0): Promise<void> {
    const targets: AgentWaitTarget[] = hosts.map(agentWaitTarget);
    await waitForAgents(this.store(), this.prefix, targets, AGENT_TIMEOUT_MS + this.saved.ttlSeconds * 1000, afterRevision);
  }
}
