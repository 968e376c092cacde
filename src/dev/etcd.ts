/**
 * A throw-away etcd (1 or 3 members) on loopback for the dev cluster, tests
 * and benchmarks. Durability is traded for speed (--unsafe-no-fsync): figures
 * measured against it say so. Members are found again by their data dir on
 * the command line, so a later process (`flotillad dev --down`) can stop
 * exactly the members this one started, even after restarts changed PIDs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { delay, waitFor } from '../util/deadline.js';
import { FlotillaError, InvalidInputError } from '../util/errors.js';
import { findExecutable } from './exec.js';
import { freePorts, portIsFree } from './ports.js';
import { isRunning, killQuietly, pidsWithArgs, waitAllDead } from './procs.js';

export interface EtcdMember {
  name: string;
  pid: number;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}

/**
 * Client TLS for the members (peers talk plain http on loopback): https
 * client URLs, and a client certificate signed by the CA required of every
 * client (--client-cert-auth).
 */
export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EtcdOptions {
  dir: string;
  members: 1 | 3;
  fastElection?: boolean;
  tls?: EtcdTls;
  /** etcd's --auth-token (default: simple tokens), e.g. jwt,pub-key=P,priv-key=K,sign-method=ES256. */
  authToken?: string;
}

/** What is saved in cluster.json to attach to running members later. */
export interface EtcdState {
  dir: string;
  fastElection: boolean;
  token: string;
  members: EtcdMember[];
  tls?: EtcdTls;
  authToken?: string;
}

export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** SIGKILL member i (crash, no clean shutdown) and wait until it is gone. */
  killMember(i: number): Promise<void>;
  /** Start member i again on its data dir and ports; resolves when it reports healthy. */
  restartMember(i: number): Promise<void>;
  /** SIGKILL every member (a whole-store outage); the data dirs stay for restartAll. */
  killAll(): Promise<void>;
  /**
   * Start every member again on its data dir and ports, all at once, then
   * wait until each reports healthy. Members restarted one at a time could
   * not do it: the first would wait for a quorum that never forms.
   */
  restartAll(): Promise<void>;
  stop(): Promise<void>;
  state(): EtcdState;
}

const READY_TIMEOUT_MS = 20_000;
const PORT_FREE_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;

function healthy(body: string): boolean {
  try {
    const health = (JSON.parse(body) as { health?: unknown }).health;
    return health === 'true' || health === true;
  } catch {
    return false;
  }
}

async function isHealthy(clientUrl: string, tls: EtcdTls | undefined): Promise<boolean> {
  if (!tls) {
    try {
      const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      return healthy(await res.text());
    } catch {
      return false;
    }
  }
  // fetch cannot present a client certificate; https can.
  const material = { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  return new Promise((resolve) => {
    const req = request(`${clientUrl}/health`, { ...material, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(healthy(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function logTail(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** ETCD_* variables would silently override or conflict with our flags. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ETCD_')) env[k] = v;
  return env;
}

class LocalEtcd implements EtcdCluster {
  constructor(private readonly s: EtcdState) {}

  get endpoints(): string[] { return this.s.members.map((m) => m.clientUrl); }
  get members(): EtcdMember[] { return this.s.members; }
  state(): EtcdState { return structuredClone(this.s); }

  private member(i: number): EtcdMember {
    const m = this.s.members[i];
    if (!m) throw new InvalidInputError(`etcd member ${i} does not exist (there are ${this.s.members.length})`);
    return m;
  }

  private logPath(m: EtcdMember): string { return join(this.s.dir, `${m.name}.log`); }

  private args(m: EtcdMember): string[] {
    const initialCluster = this.s.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
      '--initial-cluster-token', this.s.token,
      '--unsafe-no-fsync',
      '--auto-compaction-mode=revision', '--auto-compaction-retention=1000',
      '--logger=zap', '--log-outputs=stderr',
    ];
    if (this.s.fastElection) args.push('--heartbeat-interval=20', '--election-timeout=200');
    const tls = this.s.tls;
    if (tls) args.push('--client-cert-auth', '--trusted-ca-file', tls.caFile, '--cert-file', tls.certFile, '--key-file', tls.keyFile);
    if (this.s.authToken) args.push('--auth-token', this.s.authToken);
    return args;
  }

  /** The member's live process(es), identified by data dir rather than a PID that may be stale. */
  private async pidsOf(m: EtcdMember): Promise<number[]> {
    return pidsWithArgs(['--data-dir', m.dataDir]);
  }

  /** `fresh`: a new member, whose log starts empty; a restart appends. */
  async spawnMember(i: number, fresh = false): Promise<void> {
    const m = this.member(i);
    const etcd = await findExecutable('etcd', ['/usr/bin/etcd']);
    const log = await open(this.logPath(m), fresh ? 'w' : 'a');
    try {
      const child = spawn(etcd, this.args(m), { env: cleanEnv(), stdio: ['ignore', log.fd, log.fd], detached: true });
      m.pid = await new Promise<number>((res, rej) => {
        child.once('error', rej);
        child.once('spawn', () => res(child.pid ?? 0));
      });
      child.unref();
    } finally {
      await log.close();
    }
  }

  /** Healthy means a leader is known and the member serves reads; fail fast if it exited. */
  async waitHealthy(indexes: number[]): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const pending = new Set(indexes);
    while (pending.size > 0) {
      for (const i of [...pending]) {
        const m = this.member(i);
        if (!(await isRunning(m.pid))) {
          throw new FlotillaError(`etcd member ${m.name} exited during start-up: ${await logTail(this.logPath(m))}`);
        }
        if (await isHealthy(m.clientUrl, this.s.tls)) pending.delete(i);
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        const names = [...pending].map((i) => this.member(i).name).join(', ');
        throw new FlotillaError(`etcd member(s) ${names} not healthy after ${READY_TIMEOUT_MS} ms (see ${this.s.dir}/*.log)`);
      }
      await delay(25);
    }
  }

  async lostPortRace(): Promise<boolean> {
    for (const m of this.s.members) {
      const text = await readFile(this.logPath(m), 'utf8').catch(() => '');
      if (text.includes('address already in use')) return true;
    }
    return false;
  }

  async killMember(i: number): Promise<void> {
    const pids = await this.pidsOf(this.member(i));
    for (const pid of pids) killQuietly(pid);
    await waitAllDead(`etcd member ${i} to die`, pids, 10_000);
  }

  async restartMember(i: number): Promise<void> {
    await this.killMember(i);
    await this.checkPortsFree(i);
    await this.spawnMember(i);
    await this.waitHealthy([i]);
  }

  async killAll(): Promise<void> {
    await this.stop();
  }

  async restartAll(): Promise<void> {
    await this.killAll();
    const all = this.s.members.map((_, i) => i);
    for (const i of all) await this.checkPortsFree(i);
    for (const i of all) await this.spawnMember(i);
    await this.waitHealthy(all);
  }

  /**
   * The killed member's ports, free again. Not at once: etcd is
   * multi-threaded, and its main thread shows as a zombie (counted dead)
   * while the other threads still close its sockets (measured: up to ~40 ms).
   */
  private async checkPortsFree(i: number): Promise<void> {
    const m = this.member(i);
    for (const url of [m.clientUrl, m.peerUrl]) {
      const port = Number(new URL(url).port);
      if (!(await this.released(port))) throw new FlotillaError(`cannot restart etcd member ${m.name}: port ${port} is taken by another process`);
    }
  }

  /**
   * SIGKILL, not SIGTERM: a leader told to stop while its peers stop too
   * tries to hand over leadership and hangs for 5-7 s. The data is
   * throw-away (and written without fsync) so a clean shutdown buys nothing.
   */
  async stop(): Promise<void> {
    const pids = (await Promise.all(this.s.members.map((m) => this.pidsOf(m)))).flat();
    for (const pid of pids) killQuietly(pid);
    await waitAllDead('etcd to stop', pids, 10_000);
    // Stopped means its ports are free again (see checkPortsFree); one taken meanwhile by
    // someone else is not ours to wait for, so give up on it after the deadline, quietly.
    await Promise.all(this.s.members.flatMap((m) => [m.clientUrl, m.peerUrl]).map((url) => this.released(Number(new URL(url).port))));
  }

  private released(port: number): Promise<boolean> {
    return waitFor(`port ${port}`, async () => ((await portIsFree(port)) ? true : undefined), { timeoutMs: PORT_FREE_TIMEOUT_MS, intervalMs: 20 }).catch(() => false);
  }
}

async function layout(dir: string, count: number, fastElection: boolean, tls: EtcdTls | undefined, authToken: string | undefined): Promise<EtcdState> {
  const ports = await freePorts(count * 2);
  const members: EtcdMember[] = [];
  for (let i = 0; i < count; i++) {
    members.push({
      name: `s${i}`,
      pid: 0,
      clientUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(dir, `s${i}`),
    });
  }
  return { dir, fastElection, token: `flotilla-${randomBytes(6).toString('hex')}`, members, ...(tls ? { tls } : {}), ...(authToken ? { authToken } : {}) };
}

export async function startEtcd(opts: EtcdOptions): Promise<EtcdCluster> {
  if (opts.members !== 1 && opts.members !== 3) throw new InvalidInputError(`etcd members must be 1 or 3, not ${String(opts.members)}`);
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  let lastError: unknown;
  // A port checked free can still be taken before etcd binds it; new ports fix that.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const cluster = new LocalEtcd(await layout(dir, opts.members, opts.fastElection ?? false, opts.tls, opts.authToken));
    try {
      for (const m of cluster.members) await rm(m.dataDir, { recursive: true, force: true });
      for (let i = 0; i < opts.members; i++) await cluster.spawnMember(i, true);
      await cluster.waitHealthy(cluster.members.map((_, i) => i));
      return cluster;
    } catch (err) {
      lastError = err;
      // Clean-up before the next attempt; lastError is what a final failure reports.
      await cluster.stop().catch(() => undefined);
      for (const m of cluster.members) await rm(m.dataDir, { recursive: true, force: true });
      if (!(await cluster.lostPortRace())) break;
    }
  }
  throw lastError instanceof Error ? lastError : new FlotillaError(String(lastError));
}

/** Reattach to members started by another process (from cluster.json). */
export function attachEtcd(state: EtcdState): EtcdCluster {
  return new LocalEtcd(structuredClone(state));
}
