/**
 * The chaos checker's eyes: every host's systemd, sampled directly over its
 * own bus several times a second, never through Flotilla. Per sample it
 * checks that no OnDisconnect=stop unit runs on two hosts, judges whether
 * every unit is placed correctly (one host; every host for a global unit),
 * and records units starting and stopping so disruptions can be counted.
 */
import type { LocalCluster } from '../../src/dev/cluster.js';
import { HostSystemd, type HostView, type UnitSeen } from '../support/host-systemd.js';
import { Periodic } from '../support/periodic.js';
import type { FaultLog } from './fault-log.js';
import type { UnitPolicy } from './units.js';
import type { Violations } from './violations.js';

export interface SampleResult {
  /** Run clock (ms) when the last host answered. */
  at: number;
  /** ms between the first and the last host's answer. */
  span: number;
  correct: boolean;
  /** Why not, one entry per unit or host. */
  wrong: string[];
}

export interface Transition { at: number; unit: string; host: number; kind: 'start' | 'stop' }

export interface Settled {
  /** Run clock of the first sample of the stable correct run; undefined if it never came. */
  recoveredAt: number | undefined;
  /** Complaints of the last sample (if it never settled), else of the last wrong sample after `since`. */
  wrong: string[];
}

export class Checker {
  samples = 0;
  hostErrors = 0;
  maxSpanMs = 0;
  readonly transitions: Transition[] = [];
  private readonly systemd: HostSystemd;
  private readonly previous = new Map<number, Map<string, UnitSeen>>();
  private readonly listeners = new Set<(s: SampleResult) => void>();
  private correctSince: number | undefined;
  private lastWrong: string[] = ['no sample yet'];
  private lastIncorrect: { at: number; wrong: string[] } | undefined;
  private readonly sampler: Periodic;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly units: readonly UnitPolicy[],
    private readonly faults: FaultLog,
    private readonly violations: Violations,
    everyMs = 200,
  ) {
    const names = new Set(units.map((u) => u.name));
    this.systemd = new HostSystemd(cluster, (u) => names.has(u));
    this.sampler = new Periodic(everyMs, async () => this.judge(await this.systemd.viewAll()));
  }

  start(): void {
    this.sampler.start();
  }

  async stop(): Promise<void> {
    await this.sampler.stop();
    this.systemd.close();
  }

  /**
   * Resolves once samples have been correct for stableMs, counting from no
   * earlier than `since`; or at `since + timeoutMs` with recoveredAt undefined.
   */
  awaitSettled(since: number, stableMs: number, timeoutMs: number, signal?: AbortSignal): Promise<Settled> {
    return new Promise((resolve) => {
      const done = (s: Settled): void => {
        this.listeners.delete(onSample);
        resolve(s);
      };
      const onSample = (s: SampleResult): void => {
        if (signal?.aborted) return done({ recoveredAt: undefined, wrong: ['aborted'] });
        const from = this.correctSince === undefined ? undefined : Math.max(this.correctSince, since);
        if (from !== undefined && s.at - from >= stableMs) {
          const before = this.lastIncorrect && this.lastIncorrect.at >= since ? this.lastIncorrect.wrong : [];
          return done({ recoveredAt: from, wrong: before });
        }
        if (s.at > since + timeoutMs) done({ recoveredAt: undefined, wrong: this.lastWrong });
      };
      this.listeners.add(onSample);
    });
  }

  private judge(views: HostView[]): void {
    const at = this.faults.now();
    const times = views.map((v) => v.at);
    const span = times.length > 0 ? Math.max(...times) - Math.min(...times) : 0;
    this.samples++;
    this.maxSpanMs = Math.max(this.maxSpanMs, span);
    const wrong: string[] = [];
    for (const v of views) {
      if (v.running) continue;
      this.hostErrors++;
      wrong.push(`${this.name(v.host)} unreadable: ${v.error ?? '?'}`);
    }
    this.recordTransitions(views, at);
    for (const u of this.units) {
      const on = views.filter((v) => v.running?.has(u.name));
      const activeOn = on.filter((v) => v.running?.get(u.name)?.active === 'active');
      if (u.policy === 'stop' && !u.global) {
        if (on.length >= 2) {
          const states = on.map((v) => `${this.name(v.host)} ${v.running?.get(u.name)?.active ?? '?'}/${v.running?.get(u.name)?.sub ?? '?'}`);
          this.violations.seen('duplicate-stop', u.name, on.map((v) => this.name(v.host)), at, `${states.join(', ')}; sample span ${span} ms`);
        } else {
          this.violations.clear('duplicate-stop', u.name);
        }
      }
      if (u.global) {
        const missing = views.filter((v) => v.running && v.running.get(u.name)?.active !== 'active');
        if (missing.length > 0) wrong.push(`${u.name} not active on ${missing.map((v) => this.name(v.host)).join(',')}`);
      } else if (on.length !== 1 || activeOn.length !== 1) {
        wrong.push(`${u.name} running on ${on.length === 0 ? 'no host' : on.map((v) => `${this.name(v.host)}(${v.running?.get(u.name)?.active})`).join(',')}`);
      }
    }
    if (wrong.length === 0) this.correctSince ??= at;
    else {
      this.correctSince = undefined;
      this.lastIncorrect = { at, wrong };
    }
    this.lastWrong = wrong;
    const result: SampleResult = { at, span, correct: wrong.length === 0, wrong };
    for (const l of [...this.listeners]) l(result);
  }

  /** A unit appearing on (or vanishing from) a host between two readable samples of that host. */
  private recordTransitions(views: HostView[], at: number): void {
    for (const v of views) {
      if (!v.running) continue;
      const before = this.previous.get(v.host);
      this.previous.set(v.host, v.running);
      if (!before) continue;
      for (const u of this.units) {
        const was = before.has(u.name);
        const now = v.running.has(u.name);
        if (was !== now) this.transitions.push({ at, unit: u.name, host: v.host, kind: now ? 'start' : 'stop' });
      }
    }
  }

  private name(host: number): string {
    return this.cluster.hosts[host]?.name ?? `host${host + 1}`;
  }
}
