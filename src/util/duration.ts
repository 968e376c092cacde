/**
 * Durations in Go's syntax (time.ParseDuration), which Nomad and fleet users
 * write: "10s", "5m", "1h30m", "1.5s", "300ms". Non-negative only, and bounded
 * so every parsed value is a safe timer delay (Node fires a setTimeout over
 * 2^31-1 ms at once).
 */
import { InvalidInputError } from './errors.js';

/** The longest duration accepted: Node's largest timer delay (~24.8 days). */
export const DURATION_MAX_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /^(\d+(?:\.\d*)?|\.\d+)([a-zµμ]*)/;

/**
 * Milliseconds for a Go duration; throws InvalidInputError naming `what` and
 * an example. "0" alone is allowed (as in Go); any other number needs a unit.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const fail = (why: string): InvalidInputError =>
    new InvalidInputError(`invalid ${what} ${JSON.stringify(text)}: ${why}; use Go's duration syntax, e.g. 10s, 5m or 1h30m`);
  if (text.length > 64) throw fail('too long');
  if (text === '0') return 0;
  if (text === '') throw fail('empty');
  if (text.startsWith('-')) throw fail('must not be negative');
  let rest = text.startsWith('+') ? text.slice(1) : text;
  if (rest === '') throw fail('no number');
  let ms = 0;
  while (rest.length > 0) {
    const m = TERM.exec(rest);
    if (!m) throw fail(`unexpected ${JSON.stringify(rest)}`);
    const unit = m[2] as string;
    if (unit === '') throw fail('a number needs a unit (ns, us, ms, s, m, h)');
    if (!Object.hasOwn(UNIT_MS, unit)) throw fail(`unknown unit ${JSON.stringify(unit)} (use ns, us, ms, s, m, h)`);
    ms += Number(m[1]) * (UNIT_MS[unit] as number);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isFinite(ms) || ms > DURATION_MAX_MS) throw fail(`longer than the maximum ${formatDuration(DURATION_MAX_MS)}`);
  return ms;
}

/** Go's Duration.String for whole milliseconds and up: "1h30m0s", "10s", "1.5s", "250ms", "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const secs = `${trim(s)}s`;
  if (h > 0) return `${h}h${m}m${secs}`;
  if (m > 0) return `${m}m${secs}`;
  return secs;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
