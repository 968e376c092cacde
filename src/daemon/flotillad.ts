/**
 * Wiring of one flotillad: a store connection shared by the agent role and
 * the engine role. The engine role campaigns on the agent's presence lease,
 * so a host that dies takes its engine leadership with it in the same TTL.
 */
import { connectStore } from '../registry/store.js';
import { Registry } from '../registry/registry.js';
import { metricsStoreOver } from '../registry/metrics-store.js';
import { Agent } from '../agent/agent.js';
import { Election } from '../engine/election.js';
import { Engine } from '../engine/engine.js';
import { SystemdManager } from '../systemd/manager.js';
import type { Logger } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import type { DaemonConfig } from './config.js';
import { VERSION } from '../util/version.js';
import { detectPublicIP } from './public-ip.js';
import type { MachineRecord } from '../registry/records.js';
import { checkStoreAccess } from './store-check.js';
import { diffConfig, type ConfigDiff } from './reload.js';
import { ApiServer } from '../api/server.js';
import { storeApiRouter } from './store-api.js';
import { FlotillaMetrics, metricsHandler, observeDaemon, timedUnitManager, type DaemonMetrics } from '../metrics/index.js';
import { GitopsLeader } from '../gitops/leader-loop.js';

/**
 * The bus of the manager flotillad drives: the configured one, else (system
 * scope, as flotillad.service runs on a real host) the system bus, where
 * PID 1's systemd is.
 */
export function systemdBus(c: Pick<DaemonConfig, 'systemdBusAddress' | 'systemdScope'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (c.systemdBusAddress) return c.systemdBusAddress;
  if (c.systemdScope !== 'system') return undefined;
  return env.DBUS_SYSTEM_BUS_ADDRESS || 'unix:path=/run/dbus/system_bus_socket';
}

export class Flotillad {
  private registry: Registry | undefined;
  private agent: Agent | undefined;
  private election: Election | undefined;
  private engine: Engine | undefined;
  private manager: SystemdManager | undefined;
  private api: ApiServer | undefined;
  private gitops: GitopsLeader | undefined;
  /** This daemon's figures, served at /metrics (src/metrics). */
  readonly metrics = new FlotillaMetrics();
  private served: DaemonMetrics | undefined;

  constructor(
    private config: DaemonConfig,
    private readonly log: Logger,
    private readonly onFatal: (reason: string) => void,
  ) {}

  async start(): Promise<void> {
    try {
      await this.startRoles();
    } catch (err) {
      // A failed start must not leave the API socket behind, answering for a daemon that is gone.
      await this.api?.stop();
      throw err;
    }
  }

  private async startRoles(): Promise<void> {
    const c = this.config;
    const busAddress = systemdBus(c);
    if (!busAddress) throw new Error('no systemd bus: set systemd_bus_address in the config or DBUS_SESSION_BUS_ADDRESS');
    const etcd = connectStore({ endpoints: c.etcdServers, requestTimeoutMs: c.etcdRequestTimeoutMs, security: c.etcdSecurity });
    this.registry = new Registry(etcd, c.etcdKeyPrefix);
    // Before the store is known to answer: while it does not, the API says so (503).
    await this.startApi(this.registry);
    // A wrong CA or password is fatal at once, in one line; etcd merely down is waited for.
    await checkStoreAccess(this.registry, c, this.log);
    this.manager = await SystemdManager.connect(busAddress, this.log.child({ role: 'systemd' }));
    // Without its bus the agent is blind; exit non-zero so the host's systemd
    // restarts us, and the new process adopts the running units.
    this.manager.onDisconnect((err) => this.onFatal(`lost the systemd bus: ${errorMessage(err)}`));
    const machine = machineRecord(c);
    this.agent = new Agent({
      registry: this.registry,
      machine,
      ttlSeconds: c.agentTtlSeconds,
      unitsDirectory: c.unitsDirectory,
      manager: timedUnitManager(this.manager, this.metrics),
      hostRoot: c.hostRoot,
      log: this.log.child({ role: 'agent' }),
    });
    if (!c.disableEngine) {
      const engineLog = this.log.child({ role: 'engine' });
      const engine = new Engine({ registry: this.registry, log: engineLog, ownTtlSeconds: c.agentTtlSeconds });
      const election = new Election(this.registry, c.machineId, engineLog);
      const gitops = new GitopsLeader(this.registry, gitopsSettings(c), this.log.child({ role: 'gitops' }));
      election.on('elected', (fence) => {
        void engine.lead(fence).catch((err) => engineLog.error({ err: errorMessage(err) }, 'engine failed to start'));
        gitops.lead(fence);
      });
      election.on('deposed', () => {
        void engine.stepDown();
        void gitops.stepDown();
      });
      this.gitops = gitops;
      // Retried while the lease is ours: a host that failed its one campaign would never lead.
      const campaign = (id: string): void => {
        election.campaign(id).catch((err) => {
          engineLog.warn({ err: errorMessage(err) }, 'joining the engine election failed; retrying in 1 s');
          setTimeout(() => {
            if (this.agent?.presence.leaseId === id) campaign(id);
          }, 1000).unref();
        });
      };
      this.agent.on('lease', campaign);
      this.engine = engine;
      this.election = election;
    }
    const metricsAddress = c.metricsAddress && (c.metricsAddress.host.includes(':') ? `[${c.metricsAddress.host}]:${c.metricsAddress.port}` : `${c.metricsAddress.host}:${c.metricsAddress.port}`);
    // Before the agent starts, so its first lease is counted.
    this.served = await observeDaemon(this.metrics, {
      store: metricsStoreOver(this.registry),
      log: this.log,
      presence: this.agent.presence,
      agent: this.agent,
      ...(this.engine ? { engine: this.engine } : {}),
      ...(this.election ? { election: this.election } : {}),
      ...(metricsAddress ? { metricsAddress } : {}),
    });
    // The agent's first 'lease' event already put us in the election (listener above). A
    // second campaign here failed start-up outright when the lease had expired meanwhile.
    await this.agent.start();
    this.log.info({ machine: c.machineId, ip: machine.publicIP, engine: !c.disableEngine }, 'flotillad started');
  }

  /** The API on the same store connection, through the client library flotctl uses. */
  private async startApi(registry: Registry): Promise<void> {
    const c = this.config;
    if (!c.api.socket && !c.api.tcp) return;
    const router = storeApiRouter(registry, {
      endpoints: c.etcdServers,
      requestTimeoutMs: c.etcdRequestTimeoutMs,
      ...(c.etcdSecurity ? { security: c.etcdSecurity } : {}),
      tokenLimit: c.api.tokenLimit,
      metrics: metricsHandler(this.metrics),
    });
    this.api = new ApiServer(router, this.log.child({ role: 'api' }));
    const addresses = await this.api.start(c.api);
    this.log.info({ listen: addresses.join(',') }, 'API listening');
  }

  /**
   * Apply a reloaded config (SIGHUP): what can change without a restart is
   * applied, the rest is reported. Resolves with what changed.
   */
  async reload(loaded: DaemonConfig): Promise<ConfigDiff> {
    const diff = diffConfig(this.config, loaded);
    const before = machineRecord(this.config);
    this.config = diff.next;
    const after = machineRecord(this.config);
    if (this.agent && JSON.stringify(before) !== JSON.stringify(after)) {
      const written = await this.agent.updateMachine(after);
      if (!written) this.log.info('machine record not rewritten now (no lease held); the next registration publishes the new one');
    }
    return diff;
  }

  async stop(): Promise<void> {
    const keepUnits = this.config.keepUnitsOnShutdown;
    this.log.info({ keepUnits }, 'flotillad shutting down');
    await this.served?.stop();
    await this.gitops?.stepDown();
    await this.engine?.stepDown();
    // Resign first so another engine takes over while our units stop.
    if (!keepUnits) await this.election?.resign();
    await this.agent?.stop({ keepUnits });
    await this.api?.stop();
    this.manager?.close();
    this.registry?.etcd.close();
  }
}

function machineRecord(c: DaemonConfig): MachineRecord {
  // No public_ip (a bootstrap may leave it out): publish the default-route address, as fleet did.
  return { id: c.machineId, publicIP: c.publicIP || detectPublicIP(), metadata: c.metadata, version: VERSION, sshPort: c.sshPort, systemdScope: c.systemdScope };
}

/** What the leader needs to follow pull sources: flotillad's git settings (config-extras.ts). */
function gitopsSettings(c: DaemonConfig): ConstructorParameters<typeof GitopsLeader>[1] {
  const ssh = {
    hostKeyChecking: c.git.hostKeyChecking,
    ...(c.git.sshKeyFile ? { keyFile: c.git.sshKeyFile } : {}),
    ...(c.git.knownHostsFile ? { knownHostsFile: c.git.knownHostsFile } : {}),
  };
  return { cacheDir: c.git.cacheDir, ssh };
}
