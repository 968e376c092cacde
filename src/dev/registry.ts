/**
 * The dev cluster's image registry: Debian's docker-registry (the CNCF
 * distribution registry) on 127.0.0.1 and a free port, storing into the
 * cluster dir. No test or dev host ever pulls from a public registry; the
 * images it serves are built from files on this machine (images.ts). Docker
 * pulls from 127.0.0.0/8 over plain HTTP without --insecure-registry
 * (loopback is insecure-allowed by default). Found again by its config path
 * on the command line, as etcd members are by their data dir.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { waitFor } from '../util/deadline.js';
import { FlotillaError } from '../util/errors.js';
import { findExecutable } from './exec.js';
import { freePorts } from './ports.js';
import { isRunning, killQuietly, pidsWithArgs, waitAllDead } from './procs.js';

/** What cluster.json keeps to find the registry again. */
export interface RegistryState {
  /** host:port, the prefix of every image name it serves. */
  address: string;
  dir: string;
  configPath: string;
}

const READY_TIMEOUT_MS = 15_000;

/** The registry's storage dir (its images), which may be filled before it starts. */
export function registryStorage(dir: string): string {
  return join(resolve(dir), 'data');
}

function renderConfig(dir: string, address: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${registryStorage(dir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    // One instance: the secret only needs to be stable for its own lifetime.
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
}

async function answers(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function pidsOf(s: RegistryState): Promise<number[]> {
  return pidsWithArgs(['serve', s.configPath]);
}

export async function startRegistry(dir: string): Promise<RegistryState> {
  const abs = resolve(dir);
  const binary = await findExecutable('docker-registry', ['/usr/bin/docker-registry']).catch(() => {
    throw new FlotillaError("docker-registry not found: run 'bash src/dev/ensure-deps.sh' (installs docker-registry)");
  });
  await mkdir(abs, { recursive: true });
  const [port] = await freePorts(1);
  const state: RegistryState = { address: `127.0.0.1:${port}`, dir: abs, configPath: join(abs, 'config.yml') };
  await writeFile(state.configPath, renderConfig(abs, state.address));
  const logPath = join(abs, 'registry.log');
  const log = await open(logPath, 'a');
  let pid: number;
  try {
    const child = spawn(binary, ['serve', state.configPath], { stdio: ['ignore', log.fd, log.fd], detached: true });
    pid = await new Promise<number>((res, rej) => {
      child.once('error', rej);
      child.once('spawn', () => res(child.pid ?? 0));
    });
    child.unref();
  } finally {
    await log.close();
  }
  try {
    const outcome = await waitFor(`the image registry on ${state.address}`, async () => {
      if (!(await isRunning(pid))) return 'exited';
      return (await answers(state.address)) ? 'ready' : undefined;
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 25 });
    if (outcome === 'exited') {
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new FlotillaError(`docker-registry exited during start-up: ${tail}`);
    }
  } catch (err) {
    await stopRegistry(state);
    throw err;
  }
  return state;
}

/** Stop it and drop its storage (the images are rebuilt from local files by the next cluster). */
export async function stopRegistry(s: RegistryState): Promise<void> {
  const pids = await pidsOf(s);
  for (const pid of pids) killQuietly(pid);
  await waitAllDead('the image registry to stop', pids, 10_000);
  await rm(registryStorage(s.dir), { recursive: true, force: true });
}

export async function registryRunning(s: RegistryState): Promise<boolean> {
  return (await pidsOf(s)).length > 0;
}
