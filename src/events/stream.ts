/**
 * GET /flotilla/v1/events: the event watch as ndjson, in Nomad's shape.
 *
 *   {"Index":S}                                   start: events follow that are after S
 *   {"Index":N,"Events":[{Topic,Type,Key,Index,Payload}]}   one etcd revision's events
 *   {}                                            heartbeat (every 10 s)
 *   {"Resync":{"Index":C,"Message":...}}          the history ran out: reread state, resume from C
 *
 * Query: `index` (resume after it; absent or 0: from now), `unit` (a name
 * glob), `machine` (an id or id prefix). An index etcd no longer holds is
 * answered 410 with `{"error":{"code":410,"message":...,"index":C}}` before
 * any event; a client resumes from the last Index it received and misses
 * nothing. A client that reads too slowly is cut off (it resumes the same way)
 * rather than buffered for without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HistoryStore } from '../registry/history-store.js';
import { InvalidInputError, errorMessage } from '../util/errors.js';
import type { FlotillaEvent } from './derive.js';
import { EventWatch, ResyncRequired } from './event-watch.js';
import { eventPredicate, type EventFilter, type EventPredicate } from './filter.js';

export interface WireEvent {
  Topic: string;
  Type: string;
  Key: string;
  Index: number;
  Payload: { Unit?: string; Machine?: string; Reason?: string; From?: string };
}

export function toWire(e: FlotillaEvent): WireEvent {
  const payload: WireEvent['Payload'] = {};
  if (e.unit !== undefined) payload.Unit = e.unit;
  if (e.machine !== undefined) payload.Machine = e.machine;
  if (e.reason !== undefined) payload.Reason = e.reason;
  if (e.from !== undefined) payload.From = e.from;
  return { Topic: e.topic, Type: e.type, Key: e.unit ?? e.machine ?? '', Index: e.index, Payload: payload };
}

export interface EventsQuery {
  afterIndex: number;
  filter: EventFilter;
}

const PARAMS = new Set(['index', 'unit', 'machine']);

/** The query string of an events request; one-line InvalidInputError otherwise. */
export function parseEventsQuery(search: URLSearchParams): EventsQuery {
  const seen = new Set<string>();
  for (const name of search.keys()) {
    if (!PARAMS.has(name)) throw new InvalidInputError(`unknown parameter "${name.slice(0, 40)}": the events stream takes index, unit and machine`);
    if (seen.has(name)) throw new InvalidInputError(`parameter "${name}" given twice: give it once`);
    seen.add(name);
  }
  const raw = search.get('index');
  let afterIndex = 0;
  if (raw !== null) {
    if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new InvalidInputError(`index "${raw.slice(0, 40)}" is not a whole number: give the Index of the last line received`);
    afterIndex = Number(raw);
  }
  const filter: EventFilter = {};
  const unit = search.get('unit');
  const machine = search.get('machine');
  if (unit !== null) filter.unit = unit;
  if (machine !== null) filter.machine = machine;
  eventPredicate(filter);
  return { afterIndex, filter };
}

export interface EventStreamOptions {
  /** Not used before a request passes its checks. */
  store: HistoryStore;
  heartbeatMs?: number;
  /** Cut a client off when this much output waits for it. */
  maxBufferedBytes?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function sendError(res: ServerResponse, code: number, message: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ error: { code, message, ...extra } });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The handler h-api's router mounts at GET /flotilla/v1/events. */
export function eventsHandler(opts: EventStreamOptions): Handler {
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
  return (req, res) => {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return sendError(res, 405, `${req.method ?? '?'} is not allowed on the events stream: use GET`);
    }
    let query: EventsQuery;
    let match: EventPredicate;
    try {
      query = parseEventsQuery(new URL(req.url ?? '/', 'http://x').searchParams);
      match = eventPredicate(query.filter);
    } catch (err) {
      return sendError(res, 400, errorMessage(err));
    }
    void serve(opts, query, match, heartbeatMs, maxBuffered, req, res);
  };
}

async function serve(opts: EventStreamOptions, query: EventsQuery, match: EventPredicate, heartbeatMs: number, maxBuffered: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let watch: EventWatch;
  try {
    watch = await EventWatch.open(opts.store, { afterIndex: query.afterIndex });
  } catch (err) {
    if (err instanceof ResyncRequired) return sendError(res, 410, err.message, { index: err.current });
    return sendError(res, 503, `the store is unreachable: ${errorMessage(err)}`);
  }
  if (req.destroyed || res.destroyed) return void watch.close();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  let done = false;
  const line = (value: unknown): void => {
    if (done || res.destroyed) return;
    res.write(`${JSON.stringify(value)}\n`);
    if (res.writableLength > maxBuffered) res.destroy();
  };
  const end = (last?: unknown): void => {
    if (done) return;
    clearInterval(heartbeat);
    void watch.close();
    if (last !== undefined) line(last);
    done = true;
    if (!res.destroyed) res.end();
  };
  line({ Index: watch.startIndex });
  const heartbeat = setInterval(() => line({}), heartbeatMs);
  heartbeat.unref();
  watch.on('batch', (b) => {
    const events = b.events.filter(match).map(toWire);
    if (events.length > 0) line({ Index: b.index, Events: events });
  });
  watch.on('resync', (err) => end({ Resync: { Index: err.current, Message: err.message } }));
  watch.on('error', (err) => end({ Error: { Message: `the event watch failed: ${errorMessage(err)}; resume from the last Index received` } }));
  res.on('close', () => end());
}
