/**
 * ClusterClient over flotillad's API (/flotilla/v1), flotctl's API driver.
 * The server applies the same client library rules (validation, template
 * activation, metadata checks); checks that need no server run here too, so
 * bad input fails the same way with flotillad down.
 */
import type { UnitFile, UnitOption } from '../unit/index.js';
import { ApiRequestError, ApiTransport, type ApiEndpoint, type StreamDialer, type TransportTls } from './api-transport.js';
import type { UnitEventWatchOptions } from './api-events.js';
import type { ClusterClient, DesiredState, MachineSummary, MetadataChange, MetadataResult, UnitRecordView, UnitStateView, UnitSummary, Unsubscribe, WriteMark } from './types.js';

export interface ApiClientOptions {
  endpoint: ApiEndpoint;
  requestTimeoutMs: number;
  tls?: TransportTls;
  /** --tunnel: connections to the unix endpoint come from here instead of connect(2). */
  dialer?: StreamDialer;
  /** watchUnits' stream settings (tests shorten them). */
  watch?: UnitEventWatchOptions;
}

const BASE = '/flotilla/v1';
/** The unit parser and the metadata rules are loaded by the calls that need them: list-units and list-machines stay light. */
const unitFiles = async (): Promise<typeof UnitFile> => (await import('../unit/index.js')).UnitFile;

const unitPath = (name: string): string => `${BASE}/units/${encodeURIComponent(name)}`;

export class ApiClusterClient implements ClusterClient {
  private readonly http: ApiTransport;
  private readonly watchOptions: UnitEventWatchOptions;

  constructor(opts: ApiClientOptions) {
    this.http = new ApiTransport(opts.endpoint, opts.requestTimeoutMs, opts.tls, opts.dialer);
    this.watchOptions = opts.watch ?? {};
  }

  /** The same connection, for the source commands (api-sources.ts). */
  get transport(): ApiTransport {
    return this.http;
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
    // The API answers with no store revision: watchUnits starts from the stream's own index.
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

  /** Follows flotillad's event stream (see api-events.ts); resolves once it is live. */
  async watchUnits(units: readonly string[], onChange: (unit: string) => void): Promise<Unsubscribe> {
    const { watchUnitEvents } = await import('./api-events.js');
    return watchUnitEvents(this.http, units, onChange, this.watchOptions);
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
