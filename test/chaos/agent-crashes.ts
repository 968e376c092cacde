/**
 * flotillad restarts the chaos run did not cause. Each host's systemd counts
 * automatic restarts of flotillad.service (NRestarts); after a burst, any
 * restart beyond the kills we injected on that host is a crash of the agent
 * itself, reported with the error lines its log gained during the burst.
 */
import { open, stat } from 'node:fs/promises';
import type { LocalCluster } from '../../src/dev/cluster.js';
import type { FaultRecord } from './fault-log.js';

export interface AgentCrash {
  burst: number;
  host: string;
  /** Restarts systemd made during the burst, and how many our kills explain. */
  restarts: number;
  killed: number;
  /** WARN/ERROR/FATAL lines the host's flotillad log gained during the burst (last few). */
  log: string[];
}

const LOG_LINES = 6;

export class AgentCrashWatch {
  private counts: number[] = [];
  private offsets: number[] = [];

  constructor(private readonly cluster: LocalCluster) {}

  /** Call before a burst. */
  async mark(): Promise<void> {
    this.counts = await Promise.all(this.cluster.hosts.map((_, i) => this.restarts(i)));
    this.offsets = await Promise.all(this.cluster.hosts.map((h) => stat(h.logPath).then((s) => s.size, () => 0)));
  }

  /** Call after the burst has settled: crashes since mark(). */
  async crashes(burst: number, faults: readonly FaultRecord[]): Promise<AgentCrash[]> {
    const out: AgentCrash[] = [];
    for (const [i, h] of this.cluster.hosts.entries()) {
      const restarts = (await this.restarts(i)) - (this.counts[i] ?? 0);
      const killed = faults.filter((f) => (f.kind === 'agent-kill' || f.kind === 'engine-kill') && f.target === h.name && !f.note?.startsWith('not killed')).length;
      if (restarts > killed) out.push({ burst, host: h.name, restarts, killed, log: await this.newErrorLines(h.logPath, this.offsets[i] ?? 0) });
    }
    return out;
  }

  private async restarts(i: number): Promise<number> {
    const r = await this.cluster.systemctl(i, ['show', '-p', 'NRestarts', '--value', 'flotillad.service']).catch(() => undefined);
    const n = Number(r?.stdout.trim());
    return Number.isInteger(n) ? n : 0;
  }

  private async newErrorLines(path: string, from: number): Promise<string[]> {
    try {
      const f = await open(path, 'r');
      try {
        const size = (await f.stat()).size;
        const buf = Buffer.alloc(Math.max(0, size - from));
        await f.read(buf, 0, buf.length, from);
        return buf.toString('utf8').split('\n').filter((l) => / (WARN|ERROR|FATAL) /.test(l) || /^\s*at |Error/.test(l)).slice(-LOG_LINES);
      } finally {
        await f.close();
      }
    } catch {
      return [];
    }
  }
}
