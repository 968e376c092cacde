/**
 * events: follow what happens in the cluster (not in fleet): units
 * submitted, placed, started, stopped, failed, moved, unplaced; machines
 * joining and leaving; engine leadership. Follows the store's history
 * directly for now (src/events/event-watch.ts); the API serves the same stream at
 * /flotilla/v1/events. Runs until interrupted; a broken watch is reopened
 * from the last index seen, so nothing etcd still holds is skipped.
 */
import type { Command } from 'commander';
import type { FlotillaEvent } from '../../events/derive.js';
import type { EventWatch } from '../../events/event-watch.js';
import type { HistoryStore } from '../../registry/history-store.js';
import { UsageError, errorMessage } from '../../util/errors.js';
import type { Session } from '../session.js';

/** One human line per event: index, type, unit, machine, why. */
export function eventLine(e: FlotillaEvent, full: boolean): string {
  const id = (m: string): string => (full ? m : m.slice(0, 8));
  const parts = [String(e.index), e.type];
  if (e.unit !== undefined) parts.push(e.unit);
  if (e.machine !== undefined) parts.push(e.unit !== undefined ? `on ${id(e.machine)}` : id(e.machine));
  if (e.from !== undefined) parts.push(`from ${id(e.from)}`);
  else if (e.reason !== undefined) parts.push(`(${e.reason})`);
  return parts.join(' ');
}

/** JSON on one line, with what a terminal could act on written as \u escapes (still the same JSON). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function connect(session: Session): Promise<{ history: HistoryStore; close: () => void }> {
  const g = session.globals;
  const [{ connectStore, parseEndpoints }, { checkCredentials, loadStoreSecurity }, { Registry }, { historyStoreOver }] = await Promise.all([
    import('../../registry/store.js'),
    import('../../registry/store-security.js'),
    import('../../registry/registry.js'),
    import('../../registry/history-store.js'),
  ]);
  try {
    const endpoints = parseEndpoints(g.endpoint, g.endpointSource);
    const { credentials, names } = g.store;
    for (const w of checkCredentials(credentials, endpoints, names)) session.output.err(`Warning: ${w}`);
    const registry = new Registry(connectStore({ endpoints, requestTimeoutMs: g.requestTimeoutMs, security: loadStoreSecurity(credentials, names) }), g.etcdKeyPrefix);
    return { history: historyStoreOver(registry), close: () => registry.close() };
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

export function registerEvents(program: Command, session: Session): void {
  program
    .command('events')
    .description('follow cluster events as they happen (units, machines, engine leadership)')
    .option('--unit <glob>', 'only events of units matching this glob (* and ?)')
    .option('--machine <id>', 'only events on this machine (id or its first characters)')
    .option('--index <n>', 'start after this index (the first number of a line): resume where an earlier run stopped')
    .option('-l, --full', 'do not abbreviate machine ids')
    .addHelpText(
      'after',
      '\nOne line per event: INDEX TYPE [UNIT] [on MACHINE] [(REASON)]. With --json one JSON object per line\n' +
        '(Topic, Type, Key, Index, Payload), as GET /flotilla/v1/events sends them. Runs until interrupted.\n' +
        'An index etcd has compacted away exits 1 naming the index to resume from after rereading the state.',
    )
    .action(async (opts: Record<string, unknown>) => {
      const [{ EventWatch, ResyncRequired }, { eventPredicate }, { toWire }] = await Promise.all([
        import('../../events/event-watch.js'),
        import('../../events/filter.js'),
        import('../../events/stream.js'),
      ]);
      const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
      let match: (e: FlotillaEvent) => boolean;
      let after = 0;
      try {
        const unit = str(opts.unit);
        const machine = str(opts.machine);
        match = eventPredicate({ ...(unit !== undefined ? { unit } : {}), ...(machine !== undefined ? { machine } : {}) });
        const index = str(opts.index);
        if (index !== undefined) {
          if (!/^\d{1,16}$/.test(index)) throw new Error(`--index "${index.slice(0, 40)}" is not a whole number: give the first number of the last line an earlier run printed`);
          after = Number(index);
        }
      } catch (err) {
        throw new UsageError(errorMessage(err));
      }
      const full = opts.full === true;
      const json = session.globals.json;
      const store = await connect(session);
      const print = (e: FlotillaEvent): void => {
        if (!match(e)) return;
        session.output.out(json ? jsonLine(toWire(e)) : eventLine(e, full));
      };
      let watch: EventWatch | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          let stopped = false;
          const stop = (): void => {
            stopped = true;
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          const open = async (attempt: number): Promise<void> => {
            if (stopped) return;
            try {
              watch = await EventWatch.open(store.history, { afterIndex: after });
            } catch (err) {
              if (err instanceof ResyncRequired) return reject(err);
              if (attempt === 0) session.output.err(`flotctl: the event watch failed (${errorMessage(err)}); retrying from index ${after}`);
              setTimeout(() => void open(attempt + 1), Math.min(1000, 100 * 2 ** attempt)).unref();
              return;
            }
            if (stopped) return void watch.close();
            const w = watch;
            after = w.startIndex;
            w.on('batch', (b) => {
              after = b.index;
              for (const e of b.events) print(e);
            });
            w.on('resync', reject);
            w.on('error', (err) => {
              after = Math.max(after, w.lastIndex);
              session.output.err(`flotctl: the event watch failed (${errorMessage(err)}); resuming from index ${after}`);
              void open(1);
            });
          };
          void open(0);
        });
      } finally {
        await watch?.close();
        store.close();
      }
    });
}
