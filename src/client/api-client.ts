/**
 * ClusterClient over flotillad's API (/flotilla/v1), flotctl's API driver.
 * The server applies the same client library rules (validation, template
 * activation, metadata checks); checks that need no server run here too, so
 * bad input fails the same way with flotillad down.
 */
import type { UnitFile, UnitOption } from '../unit/index.js';
import { ApiRequestError, ApiTransport, type ApiEndpoint, type StreamDialer, type TransportTls } from './api-transport.js';
import type { ClusterClient, DesiredState, MachineSummary, MetadataChange, MetadataResult, UnitRecordView, UnitStateView, UnitSummary, Unsubscribe, WriteMark } from './types.js';

export interface ApiClientOptions {
  endpoint: ApiEndpoint;
  requestTimeoutMs: number;
  tls?: TransportTls;
  /** --tunnel: connections to the unix endpoint come from here instead of connect(2). */
  dialer?: StreamDialer;
  /** How often watchUnits re-reads (the API has no watch of its own yet). */
  pollMs?: number;
}

const BASE = '/flotilla/v1';
/** The unit parser and the metadata rules are loaded by the calls that need them: list-units and list-machines stay light. */
const unitFiles = async (): Promise<typeof UnitFile> => (await import('../unit/index.js')).UnitFile;
const DEFAULT_POLL_MS = 250;

const unitPath = (name: string): string => `${BASE}/units/${encodeURIComponent(name)}`;

export class ApiClusterClient implements ClusterClient {
  private readonly http: ApiTransport;
  private readonly pollMs: number;

  constructor(opts: ApiClientOptions) {
    this.http = new ApiTransport(opts.endpoint, opts.requestTimeoutMs, opts.tls, opts.dialer);
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  }

  get endpoint(): string {
    return this.http.endpoint.text;
  }

  /** A GET whose 404 means "none". */
  private async find<T>(path: string): Promise<T | undefined> {
    try {
      return (await this.http.request('GET', path)).body as T;
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** A write whose 404 means "no such unit". */
  private async write(method: string, path: string, body?: unknown): Promise<boolean> {
    try {
      await this.http.request(method, path, body);
      return true;
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) return false;
      throw err;
    }
  }

  async listUnits(): Promise<UnitSummary[]> {
    const r = await this.http.request('GET', `${BASE}/units`);
    return (r.body as { units: Array<UnitSummary & { provenance?: unknown }> }).units.map(summaryOnly);
  }

  async getUnit(name: string): Promise<UnitSummary | undefined> {
    const u = await this.find<UnitSummary & { provenance?: unknown }>(unitPath(name));
    return u && summaryOnly(u);
  }

  async getUnitFile(name: string): Promise<UnitFile | undefined> {
    const f = await this.find<{ options: UnitOption[] }>(`${unitPath(name)}/file`);
    return f && (await unitFiles()).fromOptions(f.options);
  }

  async getUnitRecord(name: string): Promise<UnitRecordView | undefined> {
    const u = await this.find<UnitSummary>(unitPath(name));
    return u && { name: u.name, hash: u.hash, desiredState: u.desiredState };
  }

  /** One PUT: content and desired state are stored together, as by the etcd driver. */
  async createUnit(name: string, file: UnitFile, desired: DesiredState = 'inactive'): Promise<WriteMark> {
    await this.http.request('PUT', unitPath(name), { options: file.options, desiredState: desired });
    // watchUnits polls from a baseline it reads itself; there is no store revision to start after.
    return { revision: '' };
  }

  setDesiredState(name: string, state: DesiredState): Promise<boolean> {
    return this.write('PATCH', unitPath(name), { desiredState: state });
  }

  destroyUnit(name: string): Promise<boolean> {
    return this.write('DELETE', unitPath(name));
  }

  async listUnitStates(unit?: string): Promise<UnitStateView[]> {
    const q = unit === undefined ? '' : `?unit=${encodeURIComponent(unit)}`;
    return ((await this.http.request('GET', `${BASE}/states${q}`)).body as { states: UnitStateView[] }).states;
  }

  async listMachines(): Promise<MachineSummary[]> {
    const r = await this.http.request('GET', `${BASE}/machines`);
    return (r.body as { machines: Array<MachineSummary & { state?: string }> }).machines.map(({ state: _state, ...m }) => m);
  }

  async listUnitFiles(): Promise<Array<{ name: string; file: UnitFile }>> {
    const r = await this.http.request('GET', `${BASE}/unit-files`);
    const parse = await unitFiles();
    return (r.body as { unitFiles: Array<{ name: string; options: UnitOption[] }> }).unitFiles.map((f) => ({ name: f.name, file: parse.fromOptions(f.options) }));
  }

  async updateMachineMetadata(machine: string, change: MetadataChange): Promise<MetadataResult> {
    const { validateMetadataChange } = await import('./metadata.js');
    const valid = validateMetadataChange(change);
    const ops = [
      ...Object.entries(valid.set).map(([key, value]) => ({ op: 'add', path: `/metadata/${key}`, value })),
      ...valid.remove.map((key) => ({ op: 'remove', path: `/metadata/${key}` })),
    ];
    const r = await this.http.request('PATCH', `${BASE}/machines/${encodeURIComponent(machine)}`, ops);
    return r.body as MetadataResult;
  }

  /**
   * Polls the unit and state lists (two requests per period, however many
   * units are watched) and reports the watched units whose summary or states
   * changed. The first lists are read before this resolves, so a read made
   * afterwards cannot miss a change. To be replaced by the event stream
   * (/flotilla/v1/events) once flotillad serves it.
   */
  async watchUnits(units: readonly string[], onChange: (unit: string) => void): Promise<Unsubscribe> {
    const wanted = new Set(units);
    let last = await this.fingerprints(wanted);
    let stopped = false;
    let running: Promise<void> = Promise.resolve();
    const tick = (): void => {
      running = (async () => {
        let now: Map<string, string>;
        try {
          now = await this.fingerprints(wanted);
        } catch {
          // flotillad unreachable for a moment: let the callers re-read and see the error themselves.
          wanted.forEach(onChange);
          return;
        }
        if (stopped) return;
        for (const u of wanted) if (now.get(u) !== last.get(u)) onChange(u);
        last = now;
      })();
      void running.finally(() => {
        if (!stopped) timer = setTimeout(tick, this.pollMs);
      });
    };
    let timer: NodeJS.Timeout = setTimeout(tick, this.pollMs);
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    };
  }

  /** Per watched unit, its summary and states as one string (absent units have none). */
  private async fingerprints(wanted: ReadonlySet<string>): Promise<Map<string, string>> {
    const one = wanted.size === 1 ? [...wanted][0]! : undefined;
    // One unit (the common `start x`): its own reads; more: the two lists.
    const [units, states] = await Promise.all([
      one === undefined ? this.listUnits() : this.getUnit(one).then((u) => (u ? [u] : [])),
      this.listUnitStates(one),
    ]);
    const out = new Map<string, string>();
    for (const u of units) if (wanted.has(u.name)) out.set(u.name, JSON.stringify(u));
    for (const st of states) if (wanted.has(st.name)) out.set(st.name, `${out.get(st.name) ?? ''}|${JSON.stringify(st)}`);
    return out;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

/** The view without what only /flotilla/v1 adds (provenance), so both drivers hand commands the same objects. */
function summaryOnly(u: UnitSummary & { provenance?: unknown }): UnitSummary {
  const { provenance: _p, ...rest } = u;
  return rest;
}
