/**
 * The API driver's watchUnits: follows GET /flotilla/v1/events (filtered to
 * the watched units) instead of polling. Resolves once the stream's start
 * line has arrived, so a read made afterwards cannot miss a change. A dropped
 * stream is resumed from the last index received (nothing etcd still holds is
 * missed); a 410 or Resync line means history ran out, so every watched unit
 * is reported (callers re-read) and the stream restarts from the index given.
 *
 * Every write to a unit's keys (its record, assignments, state reports,
 * unplaced record) has an event naming the unit (src/events/derive.ts), so
 * one report per event is enough: the caller's re-read goes to etcd, which
 * already holds the write the event came from. A quiet cluster costs nothing
 * but the heartbeats.
 */
import { ApiRequestError, type ApiLines, type ApiTransport } from './api-transport.js';
import type { Unsubscribe } from './types.js';

export interface UnitEventWatchOptions {
  /** No byte for this long (heartbeats come every 10 s) ends the stream, which is then resumed. */
  idleMs?: number;
  /** Wait before reopening a dropped stream (doubled per failure, up to 2 s). */
  retryMs?: number;
}

const EVENTS = '/flotilla/v1/events';
/** Characters the stream's unit glob treats specially: such names are filtered here instead. */
const GLOB = /[*?[\]\\]/;

/** What one ndjson line says for the watch. */
export type StreamLine =
  | { kind: 'start' | 'events'; index: number; units: string[] }
  | { kind: 'resync'; index: number }
  | { kind: 'error' }
  | { kind: 'other' };

/** Pure: one line of the stream, read defensively (an unparsable line says nothing). */
export function readStreamLine(line: string): StreamLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'other' };
  }
  if (typeof v !== 'object' || v === null) return { kind: 'other' };
  const o = v as { Index?: unknown; Events?: unknown; Resync?: { Index?: unknown }; Error?: unknown };
  if (o.Resync !== undefined) return { kind: 'resync', index: typeof o.Resync?.Index === 'number' ? o.Resync.Index : 0 };
  if (o.Error !== undefined) return { kind: 'error' };
  if (typeof o.Index !== 'number') return { kind: 'other' };
  if (!Array.isArray(o.Events)) return { kind: 'start', index: o.Index, units: [] };
  const units = o.Events.flatMap((e: unknown) => {
    const u = (e as { Payload?: { Unit?: unknown } } | null)?.Payload?.Unit;
    return typeof u === 'string' ? [u] : [];
  });
  return { kind: 'events', index: o.Index, units };
}

export function eventsPath(afterIndex: number, units: ReadonlySet<string>): string {
  const q = new URLSearchParams();
  if (afterIndex > 0) q.set('index', String(afterIndex));
  const only = units.size === 1 ? [...units][0]! : undefined;
  if (only !== undefined && !GLOB.test(only)) q.set('unit', only);
  const s = q.toString();
  return s === '' ? EVENTS : `${EVENTS}?${s}`;
}

export async function watchUnitEvents(http: ApiTransport, units: readonly string[], onChange: (unit: string) => void, opts: UnitEventWatchOptions = {}): Promise<Unsubscribe> {
  const idleMs = opts.idleMs ?? 35_000;
  const retryMs = opts.retryMs ?? 100;
  const wanted = new Set(units);
  let stopped = false;
  let current: ApiLines | undefined;

  const changed = (unit: string): void => {
    if (stopped || !wanted.has(unit)) return;
    onChange(unit);
  };
  const everyone = (): void => wanted.forEach(changed);

  /** Opens the stream after `index`; resolves with it and its start index. */
  const open = async (index: number): Promise<{ lines: AsyncGenerator<string>; start: number; stream: ApiLines }> => {
    const stream = await http.openLines(eventsPath(index, wanted), idleMs);
    const lines = stream.lines();
    const first = await lines.next();
    const head = first.done ? { kind: 'other' as const } : readStreamLine(first.value);
    if (head.kind !== 'start') {
      stream.close();
      throw new Error('the event stream did not start with its index');
    }
    return { lines, start: head.index, stream };
  };

  let opened = await open(0);
  current = opened.stream;

  const follow = async (): Promise<void> => {
    let last = opened.start;
    let wait = retryMs;
    for (;;) {
      for await (const line of opened.lines) {
        const l = readStreamLine(line);
        if (l.kind === 'events') {
          last = Math.max(last, l.index);
          for (const u of l.units) changed(u);
        } else if (l.kind === 'resync') {
          everyone();
          last = l.index;
        }
        wait = retryMs;
      }
      // The stream ended (dropped, cut off, or an Error line): resume from the last index.
      for (;;) {
        if (stopped) return;
        await new Promise((r) => setTimeout(r, wait));
        if (stopped) return;
        try {
          opened = await open(last);
          current = opened.stream;
          if (stopped) {
            opened.stream.close();
            return;
          }
          break;
        } catch (err) {
          if (err instanceof ApiRequestError && err.status === 410) {
            // History ran out: re-read everything, then follow from where flotillad says.
            last = err.index ?? 0;
          }
          // Unreachable for a while (or history lost): let the callers re-read and see for themselves.
          everyone();
          wait = Math.min(wait * 2, 2_000);
        }
      }
    }
  };
  const running = follow();

  return async () => {
    stopped = true;
    current?.close();
    await running;
  };
}
