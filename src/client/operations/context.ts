/**
 * What every operation needs: the cluster, somewhere to print, and the
 * machine directory used to label machines in messages. Operations never
 * touch the console, so the CLI, tests and a future API server can each
 * decide where lines go.
 */
import type { ClusterClient, MachineSummary } from '../types.js';
import { type LocalFiles, nodeFiles } from './local-files.js';

/** Lines for the user. `out` is progress and results; `err` is warnings and errors. */
export interface OutputSink {
  out(line: string): void;
  err(line: string): void;
  /** Diagnostics shown only with --debug. */
  debug(line: string): void;
}

export interface OperationContext {
  client: ClusterClient;
  sink: OutputSink;
  /** Local unit files; tests substitute an in-memory tree. */
  files: LocalFiles;
  /** Length of one fleet "attempt" (--block-attempts counts these). */
  attemptMs: number;
  /** Safety re-read interval while waiting, in case a watch event is lost. */
  recheckMs: number;
  machines: MachineDirectory;
}

/** fleet's defaultSleepTime-based attempt: 2 s. */
export const ATTEMPT_MS = 2000;

export function operationContext(client: ClusterClient, sink: OutputSink, overrides: Partial<Omit<OperationContext, 'client' | 'sink' | 'machines'>> = {}): OperationContext {
  return {
    client,
    sink,
    files: overrides.files ?? nodeFiles,
    attemptMs: overrides.attemptMs ?? ATTEMPT_MS,
    recheckMs: overrides.recheckMs ?? 1000,
    machines: new MachineDirectory(client),
  };
}

/** Machines by id, read once per command and re-read when an unknown id shows up. */
export class MachineDirectory {
  private byId: Map<string, MachineSummary> | undefined;
  private refreshed = false;

  constructor(private readonly client: ClusterClient) {}

  async get(id: string): Promise<MachineSummary | undefined> {
    if (!this.byId) await this.load();
    if (!this.byId?.has(id) && !this.refreshed) {
      this.refreshed = true;
      await this.load();
    }
    return this.byId?.get(id);
  }

  /** The known machines among `ids` (one refresh at most, as with get). */
  async some(ids: Iterable<string>): Promise<Map<string, MachineSummary>> {
    const out = new Map<string, MachineSummary>();
    for (const id of ids) {
      const m = await this.get(id);
      if (m) out.set(id, m);
    }
    return out;
  }

  private async load(): Promise<void> {
    this.byId = new Map((await this.client.listMachines()).map((m) => [m.id, m]));
  }
}
