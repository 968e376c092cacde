/**
 * The text of a flotillad config file: fleet's format, top-level `key=value`
 * lines. Read line by line here rather than by a general INI parser, because
 * such parsers drop everything after an inline `#` or `;`
 * (`metadata=region=us#east` became `region=us`): a value is taken exactly
 * as written or refused, never silently shortened.
 *
 * - blank lines and lines whose first non-blank character is `#` or `;` are comments;
 * - blanks around the key, the `=` and the value are dropped;
 * - a value wholly in double or single quotes is taken literally between them
 *   (so `#` and `;` can be kept: `metadata="region=us#east"`);
 * - an unquoted value holding `#` or `;` is refused (an inline comment, or a
 *   value that needs quotes: the reader cannot tell which);
 * - `[sections]`, lines without `=` and keys given twice are refused.
 */
import { InvalidInputError } from '../util/errors.js';

export interface ConfigLine {
  key: string;
  value: string;
  /** 1-based line number, for messages. */
  line: number;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseConfigText(text: string, path: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const where = `config file ${path} line ${n}`;
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      throw new InvalidInputError(`${where}: sections like ${JSON.stringify(line)} are not supported: put key=value lines at the top level`);
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new InvalidInputError(`${where}: ${JSON.stringify(clip(line))} is not a key=value line: write key=value, or start a comment with #`);
    const key = line.slice(0, eq).trim().toLowerCase();
    if (!KEY.test(key)) throw new InvalidInputError(`${where}: ${JSON.stringify(clip(line.slice(0, eq).trim()))} is not a key name: keys are letters, digits and _`);
    const value = unquote(line.slice(eq + 1).trim(), key, where);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new InvalidInputError(`${where}: ${key} is set twice (also on line ${earlier}): keep one of the two`);
    seen.set(key, n);
    out.push({ key, value, line: n });
  }
  return out;
}

function unquote(raw: string, key: string, where: string): string {
  const q = raw[0];
  if ((q === '"' || q === "'") && raw.length >= 2 && raw.endsWith(q)) return raw.slice(1, -1);
  if (q === '"' || q === "'") throw new InvalidInputError(`${where}: the value of ${key} opens a ${q} quote it does not close: close it at the end of the line`);
  const c = /[#;]/.exec(raw);
  if (c) {
    throw new InvalidInputError(
      `${where}: the value of ${key} ${JSON.stringify(clip(raw))} holds ${JSON.stringify(c[0])}: quote the whole value (${key}="${clip(raw)}") to keep it, or put a comment on a line of its own`,
    );
  }
  return raw;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
