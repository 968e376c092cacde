/**
 * flotillad's roles as src/daemon/flotillad.ts composes them, plus the three
 * metrics lines the lead adds there (marked METRICS), run in the test process
 * against a dev host's real systemd and the cluster's etcd. Until flotillad.ts
 * carries those lines this is how a cluster test scrapes a real daemon.
 */
import { Agent } from '../../../src/agent/agent.js';
import { Election } from '../../../src/engine/election.js';
import { Engine } from '../../../src/engine/engine.js';
import { FlotillaMetrics, observeDaemon, timedUnitManager, type DaemonMetrics } from '../../../src/metrics/index.js';
import type { DaemonConfig } from '../../../src/daemon/config.js';
import { metricsStoreOver } from '../../../src/registry/metrics-store.js';
import { Registry } from '../../../src/registry/registry.js';
import { connectStore } from '../../../src/registry/store.js';
import { SystemdManager } from '../../../src/systemd/manager.js';
import { silentLogger } from '../../../src/util/log.js';

export interface WiredDaemon {
  metrics: FlotillaMetrics;
  served: DaemonMetrics;
  stop(): Promise<void>;
}

export async function startWiredDaemon(c: DaemonConfig, busAddress: string, metricsAddress: string): Promise<WiredDaemon> {
  const log = silentLogger();
  const etcd = connectStore({ endpoints: c.etcdServers, requestTimeoutMs: c.etcdRequestTimeoutMs, security: c.etcdSecurity });
  const registry = new Registry(etcd, c.etcdKeyPrefix);
  const manager = await SystemdManager.connect(busAddress, log);
  const metrics = new FlotillaMetrics(); // METRICS 1
  const agent = new Agent({
    registry,
    machine: { id: c.machineId, publicIP: c.publicIP || '127.0.0.1', metadata: c.metadata, version: 'test', sshPort: c.sshPort, systemdScope: c.systemdScope },
    ttlSeconds: c.agentTtlSeconds,
    unitsDirectory: c.unitsDirectory,
    manager: timedUnitManager(manager, metrics), // METRICS 2
    hostRoot: c.hostRoot,
    log,
  });
  const engine = new Engine({ registry, log, ownTtlSeconds: c.agentTtlSeconds });
  const election = new Election(registry, c.machineId, log);
  election.on('elected', (fence) => void engine.lead(fence));
  election.on('deposed', () => void engine.stepDown());
  agent.on('lease', (id) => void election.campaign(id));
  // METRICS 3
  const served = await observeDaemon(metrics, { store: metricsStoreOver(registry), log, presence: agent.presence, agent, engine, election, metricsAddress });
  await agent.start();
  return {
    metrics,
    served,
    async stop() {
      await served.stop();
      await engine.stepDown();
      await election.resign();
      await agent.stop({ keepUnits: false });
      manager.close();
      etcd.close();
    },
  };
}
