/**
 * LocalCluster: etcd plus N simulated systemd hosts, each running flotillad
 * as a unit of its own systemd, all on this machine. Used by `flotillad dev`,
 * the integration tests and benchmarks. Everything it starts is recorded in
 * <dir>/cluster.json so another process can attach and tear it down, and
 * teardown signals only what it started: recorded etcd members (by data dir)
 * and the contents of the hosts' own cgroups.
 */
import { rm } from 'node:fs/promises';
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
import { hostEnv, hostPaths, killHost, startHost, systemctl, type HostProcess } from './host.js';
import { publicIPFor, writeAgentFiles } from './host-files.js';
import { findExecutable, type RunResult } from './exec.js';
import { SSHD_UNIT, type ClientKey, accepts, ensureClientKey, freeSshPort, writeKnownHosts, writeSshdFiles } from './ssh.js';
import { waitFor } from '../util/deadline.js';
import type { PartitionMode } from './proxy.js';
import { connectStore, type StoreOptions } from '../registry/store.js';
import type { Etcd3 } from 'etcd3';
import { enableAuth, prepareSecureStore, secureConfig, secureFlotctlEnv, serverTls, storeSecurity } from './secure-store.js';

export type { ClusterHost } from './cluster-dir.js';
export type { PartitionMode } from './proxy.js';

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
  /** etcd requires TLS client certificates and a password (`flotillad dev --secure`). */
  secure?: boolean;
  log?: Logger;
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
    const dir = resolve(opts.dir);
    const log = opts.log ?? silentLogger();
    await prepareDir(dir, (stale) => LocalCluster.fromState(stale, log).down());

    const t0 = Date.now();
    const members = opts.etcdMembers ?? 1;
    const prefix = normalizePrefix(opts.prefix ?? DEFAULT_PREFIX);
    const secure = opts.secure ? await prepareSecureStore(dir) : undefined;
    // A lone member has no peers to lose, so fast election only saves the ~0.8 s first election;
    // three members keep etcd's defaults unless asked, as a busy 2-core machine would see false elections.
    const etcd = await startEtcd({ dir: join(dir, 'etcd'), members, fastElection: opts.fastElection ?? members === 1, ...(secure ? { tls: serverTls(secure) } : {}) });
    if (secure) {
      try {
        await enableAuth(secure, etcd.endpoints, prefix);
      } catch (err) {
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
      ...(secure ? { secure } : {}),
      etcd: etcd.state(),
      hosts: [],
    }, etcd, log);
    try {
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
      if (cluster.saved.waitForAgents) await cluster.waitAgents(added);
      log.info({ ms: Date.now() - t0 }, 'cluster ready');
      return cluster;
    } catch (err) {
      await cluster.down().catch((e: unknown) => log.error({ err: String(e) }, 'teardown after failed start'));
      throw err;
    }
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
      FLOTCTL_ENDPOINT: this.endpoints.join(','),
      FLOTCTL_ETCD_KEY_PREFIX: this.prefix,
      // The hosts' sshd let in the user who started the cluster, with the cluster's own key.
      FLOTCTL_SSH_USERNAME: userInfo().username,
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

  /** A host joining later; waits for its agent if the cluster was started that way. */
  async addHost(): Promise<ClusterHost> {
    const host = await this.bootHost(this.saved.hosts.length);
    this.saved.hosts.push(host);
    await this.persist();
    if (this.saved.waitForAgents) await this.waitAgents([host]);
    return host;
  }

  /** Power loss of host i: its systemd, flotillad, units and dbus-daemon die at once. */
  async killHost(i: number): Promise<void> {
    this.agents.forget(this.host(i));
    await killHost(this.host(i));
  }

  /**
   * Power host i back on after killHost: same dir, machine id and config, new
   * systemd and dbus-daemon; flotillad starts again. A running host is killed first.
   */
  async restartHost(i: number): Promise<ClusterHost> {
    const old = this.host(i);
    this.agents.forget(old);
    await killHost(old);
    const revision = this.saved.waitForAgents ? await currentRevision(this.store(), this.prefix) : 0;
    const host: ClusterHost = { ...old, ...(await this.powerOn(old.name, old.dir, old.sshPort ? { address: old.publicIP, port: old.sshPort } : undefined)) };
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

  systemctl(i: number, args: string[]): Promise<RunResult> {
    return systemctl(this.host(i), args);
  }

  /**
   * Everything gone: hosts (by cgroup) and etcd members (by data dir), the
   * sockets, etcd data and cluster.json. Configs and logs stay for post-mortems.
   */
  async down(): Promise<void> {
    const errors: unknown[] = [];
    const settle = async (p: Promise<unknown>): Promise<void> => { await p.catch((e: unknown) => { errors.push(e); }); };
    await Promise.all(this.saved.hosts.map((h) => settle(killHost(h))));
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
  private async prepareSshd(index: number, hostDir: string, userUnitsDir: string): Promise<{ sshPort: number; sshHostKey: string } | undefined> {
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
      sessionEnv: hostEnv(hostDir),
      authorizedKey: client.publicKey,
      sshdPath,
    });
    return { sshPort, sshHostKey };
  }

  /** Files first, then the host's systemd (which then finds flotillad.service without a reload). */
  private async bootHost(index: number): Promise<ClusterHost> {
    const name = `host${index + 1}`;
    const hostDir = join(this.dir, name);
    const paths = hostPaths(hostDir);
    const proxy = this.saved.etcdProxy;
    const proxied = proxy === true || (Array.isArray(proxy) && proxy.includes(index));
    const sshd = await this.prepareSshd(index, resolve(hostDir), join(paths.configDir, 'systemd', 'user'));
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
      ...(sshd ? { sshPort: sshd.sshPort } : {}),
    });
    const host: ClusterHost = { ...(await this.powerOn(name, hostDir, sshd ? { address: files.publicIP, port: sshd.sshPort } : undefined)), index, ...files, ...sshd };
    this.log.debug({ host: name, machineId: host.machineId }, 'host started');
    return host;
  }

  private async powerOn(name: string, hostDir: string, sshd: { address: string; port: number } | undefined): Promise<HostProcess> {
    const host = await startHost({ dir: hostDir, name });
    try {
      if (sshd) {
        // Type=simple returns before sshd listens; the first flotctl ssh must not race it.
        // A host whose sshd cannot listen (its port taken meanwhile) still runs everything
        // else: only status/journal/ssh cannot reach it, and the warning says why.
        const ssh = await systemctl(host, ['start', SSHD_UNIT]);
        const listening = ssh.code === 0 && (await waitFor(`${name}'s sshd`, async () => ((await accepts(sshd.address, sshd.port)) ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 }).catch(() => false));
        if (!listening) this.log.warn({ host: name, address: `${sshd.address}:${sshd.port}`, log: join(hostDir, 'sshd', 'sshd.log') }, 'sshd is not listening: flotctl status, journal and ssh cannot reach this host');
      }
      const r = await systemctl(host, ['start', 'flotillad.service']);
      // With Restart=on-failure a missing or crashing daemon is not an error here; the agent wait reports it.
      if (r.code !== 0) this.log.warn({ host: name, stderr: r.stderr.trim() }, 'flotillad.service did not start');
      return host;
    } catch (err) {
      await killHost(host).catch(() => undefined);
      throw err;
    }
  }

  private async waitAgents(hosts: ClusterHost[], afterRevision = 0): Promise<void> {
    const targets: AgentWaitTarget[] = hosts.map((h) => ({
      name: h.name,
      machineId: h.machineId,
      logPath: h.logPath,
      unitState: async () => (await systemctl(h, ['show', '-p', 'ActiveState', '--value', 'flotillad.service'])).stdout.trim(),
    }));
    await waitForAgents(this.store(), this.prefix, targets, AGENT_TIMEOUT_MS + this.saved.ttlSeconds * 1000, afterRevision);
  }
}
