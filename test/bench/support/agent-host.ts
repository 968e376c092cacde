/**
 * A process hosting a share of the scale benchmark's agents: the project's
 * real Agent code (presence lease, bidder, reconciler, reporter), each with
 * the in-memory unit manager (the benchmark's one STAND-IN for systemd) and
 * its own units directory. The parent forks a few of these so the agents do
 * not share one event loop with the engine; a machine still runs one agent
 * per host in production, so this is closer to it, not further.
 *
 * Protocol (IPC messages): the parent sends nothing until this process says
 * {type: 'ready'}; then {type: 'stop'} stops every agent (units kept, as a
 * host's upgrade would) and the process answers {type: 'stopped'} and exits.
 * If the parent goes away, this process stops its agents and exits too.
 */
import { connectStore } from '../../../src/registry/store.js';
import { Registry } from '../../../src/registry/registry.js';
import { Agent } from '../../../src/agent/agent.js';
import { silentLogger } from '../../../src/util/log.js';
import { MemoryUnitManager } from '../../support/memory-unit-manager.js';
import { startProfile, type Profile } from './profile.js';

export interface AgentHostConfig {
  endpoints: string[];
  prefix: string;
  dir: string;
  /** Global agent numbers this process runs. */
  agents: number[];
  /** etcd client connections shared by this process's agents. */
  connections: number;
  /** Profile the measured phase (the parent names the file when it asks for the report). */
  profile?: boolean;
}

/** From the agent host to the parent. */
export type AgentHostMessage =
  | { type: 'ready' }
  | { type: 'stopped' }
  | { type: 'failed'; error: string }
  /** CPU this process used since the parent said 'measure', in seconds. */
  | { type: 'cpu'; seconds: number };

/** From the parent: start measuring, report CPU and profile, or stop. */
export type AgentHostCommand = { type: 'measure' } | { type: 'report'; profile?: string } | { type: 'stop' };

export function machineId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

/** Start the given agents in this process, 50 at a time. */
export async function startAgents(cfg: AgentHostConfig): Promise<{ agents: Agent[]; stop(): Promise<void> }> {
  const clients = Array.from({ length: Math.max(1, Math.min(cfg.connections, cfg.agents.length)) }, () => connectStore({ endpoints: cfg.endpoints }));
  const log = silentLogger();
  const agents: Agent[] = [];
  for (let i = 0; i < cfg.agents.length; i += 50) {
    await Promise.all(
      cfg.agents.slice(i, i + 50).map(async (n, j) => {
        const agent = new Agent({
          registry: new Registry(clients[(i + j) % clients.length]!, cfg.prefix),
          machine: { id: machineId(n), publicIP: `127.1.${n >> 8}.${n & 255}`, metadata: {}, version: 'bench' },
          ttlSeconds: 10,
          unitsDirectory: `${cfg.dir}/a${n}`,
          manager: new MemoryUnitManager(),
          log,
        });
        await agent.start();
        agents.push(agent);
      }),
    );
  }
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop({ keepUnits: true }).catch(() => undefined)));
      for (const c of clients) c.close();
    },
  };
}

/** Entry point of a forked agent host: its config is the JSON in argv[2]. */
async function runAsChild(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as AgentHostConfig;
  const send = (m: AgentHostMessage): void => void process.send?.(m);
  let running: Awaited<ReturnType<typeof startAgents>> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (running?.stop() ?? Promise.resolve()).then(() => send({ type: 'stopped' })));
  let since: NodeJS.CpuUsage | undefined;
  let profile: Profile | undefined;
  process.on('message', (m: AgentHostCommand) => {
    if (m.type === 'stop') void stop().finally(() => process.exit(0));
    else if (m.type === 'measure') {
      since = process.cpuUsage();
      if (cfg.profile) void startProfile().then((p) => (profile = p));
    } else if (m.type === 'report') {
      const used = process.cpuUsage(since);
      void (profile && m.profile ? profile.stop(m.profile) : Promise.resolve()).then(() => send({ type: 'cpu', seconds: (used.user + used.system) / 1e6 }));
    }
  });
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  try {
    running = await startAgents(cfg);
    send({ type: 'ready' });
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

if (process.send && process.argv[1]?.endsWith('agent-host.js')) void runAsChild();
