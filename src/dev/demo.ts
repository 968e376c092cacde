/**
 * The demo `npm start` runs once the local cluster is up: start the demo
 * units from units/ through flotctl, exactly as a user would, and show the
 * result. Units that need Docker (etcd@, the Kubernetes components) are not
 * part of it: hosts have a Docker engine only with `flotillad dev --docker`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalCluster } from './cluster.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const DEMO_UNITS = ['units/hello.service', 'units/clock.service', 'units/heartbeat.service'];

function flotctl(env: Record<string, string>, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}`.trimEnd() });
    });
  });
}

export async function runDemo(cluster: LocalCluster, print: (line: string) => void): Promise<void> {
  const env = cluster.flotctlEnv();
  print(`$ flotctl start ${DEMO_UNITS.join(' ')}`);
  const start = await flotctl(env, ['start', ...DEMO_UNITS]);
  for (const line of start.out.split('\n')) print(line);
  print('$ flotctl list-units');
  const list = await flotctl(env, ['list-units']);
  for (const line of list.out.split('\n')) print(line);
}
