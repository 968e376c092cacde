/**
 * Each dev host's own Docker engine, asked directly with the docker CLI
 * (DOCKER_HOST of that host): which containers really exist there, never
 * what Flotilla or systemd believes.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { run } from '../../src/dev/exec.js';

export interface Container { id: string; name: string; state: string }

function dockerEnv(cluster: LocalCluster, host: number): Record<string, string> {
  const h = cluster.hosts[host];
  if (!h?.env.DOCKER_HOST) throw new Error(`host ${host} has no Docker engine`);
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: h.env.HOME ?? '/tmp', DOCKER_HOST: h.env.DOCKER_HOST };
}

/** `docker` against host i's engine. */
export function docker(cluster: LocalCluster, host: number, args: string[]): ReturnType<typeof run> {
  return run('docker', args, { env: dockerEnv(cluster, host), timeoutMs: 30_000 });
}

/** Every container on host i's engine, running or not; undefined when the engine does not answer. */
export async function containers(cluster: LocalCluster, host: number): Promise<Container[] | undefined> {
  const r = await docker(cluster, host, ['ps', '--all', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
  if (r.code !== 0) return undefined;
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [id = '', name = '', state = ''] = l.split(' ');
    return { id, name, state };
  });
}

/** The host PID of a running container's first process (0 when it is not running). */
export async function containerPid(cluster: LocalCluster, host: number, name: string): Promise<number> {
  const r = await docker(cluster, host, ['inspect', '--format', '{{.State.Pid}}', name]);
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

/** Hosts (among `among`) whose engine has a running container called `name`. */
export async function hostsWithContainer(cluster: LocalCluster, name: string, among: number[]): Promise<number[]> {
  const seen = await Promise.all(among.map(async (i) => ({ i, list: await containers(cluster, i) })));
  return seen.filter((s) => s.list?.some((c) => c.name === name && c.state === 'running')).map((s) => s.i);
}
