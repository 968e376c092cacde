/**
 * Value syntaxes of flotillad's config, fleet's included: Go durations
 * (`agent_ttl=30s`, `1m30s`), fleet's float seconds (`etcd_request_timeout=1.0`),
 * booleans, IP literals, absolute paths and `k=v,k2=v2` metadata. Pure: each
 * returns the value or throws a one-line InvalidInputError naming the key,
 * the value and the fix.
 */
import { parseDuration } from '../util/duration.js';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { validateMetadataKey, validateMetadataValue } from '../client/metadata.js';
import { InvalidInputError, errorMessage } from '../util/errors.js';

const PLAIN_NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Seconds from a plain number of seconds (fleet's float options: `1.0`, `0.5`)
 * or a Go duration (fleet's agent_ttl: `30s`, `1m30s`, `1500ms`; parsed by
 * src/util/duration.ts, the one Go-duration parser).
 */
export function parseSeconds(key: string, text: string, min: number, max: number): number {
  const t = text.trim();
  let seconds: number | undefined;
  if (PLAIN_NUMBER.test(t)) seconds = Number(t);
  else {
    try {
      seconds = parseDuration(t, key) / 1000;
    } catch {
      seconds = undefined;
    }
  }
  if (seconds === undefined || !Number.isFinite(seconds)) {
    throw new InvalidInputError(`${key} "${text}" is invalid: give seconds (10, 1.5) or a duration such as 30s, 1m30s or 500ms`);
  }
  if (seconds < min || seconds > max) throw new InvalidInputError(`${key} "${text}" is out of range: give ${min} s to ${max} s`);
  return seconds;
}

/** etcd lease TTLs are whole seconds: `2500ms` is refused rather than rounded. */
export function parseWholeSeconds(key: string, text: string, min: number, max: number): number {
  const s = parseSeconds(key, text, min, max);
  if (!Number.isInteger(Math.round(s * 1e6) / 1e6)) throw new InvalidInputError(`${key} "${text}" is not a whole number of seconds (etcd lease TTLs are whole seconds): give e.g. ${Math.ceil(s)}s`);
  return Math.round(s);
}

export function parseInteger(key: string, text: string, min: number, max: number): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidInputError(`${key} "${text}" is invalid: give a whole number from ${min} to ${max}`);
  return n;
}

export function parsePort(key: string, text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidInputError(`${key} "${text}" is invalid: use a TCP port from 1 to 65535`);
  return n;
}

/** Go's strconv.ParseBool words (fleet's flags), plus yes/no and on/off. */
export function parseBool(key: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 't', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'f', 'no', 'off', ''].includes(t)) return false;
  throw new InvalidInputError(`${key} "${text}" is invalid: use true or false`);
}

/** An IPv4 or IPv6 literal (empty: none published). */
export function parseIP(key: string, text: string): string {
  const t = text.trim();
  if (t === '' || isIP(t) !== 0) return t;
  const hint = /^\[.*\]$/.test(t) ? 'write an IPv6 address without brackets' : 'give an IPv4 or IPv6 address such as 10.0.0.5 or fd00::5';
  throw new InvalidInputError(`${key} "${text}" is not an IP address: ${hint}`);
}

/** An absolute path, normalised (`/run/x/` and `/run/./x` are `/run/x`). */
export function parseAbsolutePath(key: string, text: string, example: string): string {
  const t = text.trim();
  if (t === '') throw new InvalidInputError(`${key} is empty: give an absolute path such as ${example}`);
  if (!t.startsWith('/')) throw new InvalidInputError(`${key} "${text}" is a relative path: give an absolute path such as ${example}`);
  if (/\p{Cc}/u.test(t)) throw new InvalidInputError(`${key} ${JSON.stringify(text)} holds control characters: give a plain absolute path such as ${example}`);
  const normal = posix.normalize(t);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

export interface ParsedMetadata {
  metadata: Record<string, string>;
  /** Entries fleet also skipped (it logged them): said once at start-up. */
  ignored: string[];
}

/**
 * fleet's format: `k=v,k2=v2`, blanks around keys and values trimmed, the
 * last duplicate wins; a value may be quoted (`role="web server"`). Entries
 * without `=` or without a value are skipped with a warning, as fleet did;
 * keys and values that set-metadata would refuse are refused here too.
 */
export function parseMetadata(key: string, text: string): ParsedMetadata {
  const metadata: Record<string, string> = {};
  const ignored: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const i = item.indexOf('=');
    if (i < 0) {
      ignored.push(`${key} entry ${JSON.stringify(item)} has no "=": ignored (write name=value)`);
      continue;
    }
    const k = item.slice(0, i).trim();
    let v = item.slice(i + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1).trim();
    if (v === '') {
      ignored.push(`${key} entry ${JSON.stringify(item)} has no value: ignored`);
      continue;
    }
    try {
      validateMetadataKey(k);
      validateMetadataValue(k, v);
    } catch (err) {
      throw new InvalidInputError(`${key} entry ${JSON.stringify(item)}: ${errorMessage(err)}`);
    }
    metadata[k] = v;
  }
  return { metadata, ignored };
}
