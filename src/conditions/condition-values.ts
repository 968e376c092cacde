/**
 * The small value languages inside some systemd conditions, parsed as
 * systemd parses them: comparison prefixes and sizes (ConditionMemory=,
 * ConditionCPUs=), kernel command line words, and which directory entries
 * ConditionDirectoryNotEmpty= does not count.
 */

type Order = (cmp: number) => boolean;

// parse_compare_operator() without fnmatch or string operators, longest first as in systemd's table.
const OPERATORS: ReadonlyArray<readonly [string, Order]> = [
  ['<>', (c) => c !== 0],
  ['<=', (c) => c <= 0],
  ['>=', (c) => c >= 0],
  ['<', (c) => c < 0],
  ['>', (c) => c > 0],
  ['==', (c) => c === 0],
  ['=', (c) => c === 0],
  ['!=', (c) => c !== 0],
];

/**
 * `actual` compared with the value after an optional operator (default `>=`).
 * Undefined when the value does not parse: systemd then counts the condition
 * as failed, whatever its negation.
 */
export function compareWith(param: string, actual: number, parse: (s: string) => number | undefined): boolean | undefined {
  let order: Order = (c) => c >= 0;
  let rest = param;
  for (const [op, fn] of OPERATORS) {
    if (param.startsWith(op)) {
      order = fn;
      rest = param.slice(op.length);
      break;
    }
  }
  const expected = parse(rest);
  if (expected === undefined) return undefined;
  return order(Math.sign(actual - expected));
}

const IEC: ReadonlyArray<readonly [string, number]> = [
  ['E', 1024 ** 6], ['P', 1024 ** 5], ['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024], ['B', 1], ['', 1],
];

/**
 * systemd's parse_size(t, 1024): one or more `<number>[.<fraction>] <suffix>`
 * terms with suffixes in decreasing order (`1G 512M`), each suffix one of
 * E P T G M K B or none.
 */
export function parseSize(text: string): number | undefined {
  let rest = text;
  let total = 0;
  let start = 0;
  do {
    const m = /^[ \t\n\r\f\v]*([0-9]+)(?:\.([0-9]*))?[ \t\n\r]*/.exec(rest);
    if (!m) return undefined;
    rest = rest.slice(m[0].length);
    const i = IEC.findIndex(([suffix], idx) => idx >= start && rest.startsWith(suffix));
    if (i < 0) return undefined;
    const [suffix, factor] = IEC[i] as readonly [string, number];
    const frac = m[2] ? Number(`0.${m[2]}`) : 0;
    total += Number(m[1]) * factor + Math.floor(frac * factor);
    rest = rest.slice(suffix.length);
    start = i + 1;
  } while (rest.length > 0);
  return total;
}

/** systemd's safe_atou(): strtoul with base 0 (so 0x10 and 010 work), nothing after the number. */
export function parseUnsigned(text: string): number | undefined {
  const s = text.replace(/^[ \t\n\r\f\v]*\+?/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return parseInt(s, 10);
  return undefined;
}

/** The kernel command line as systemd splits it: on whitespace, quotes removed but what they quote kept whole. */
export function splitKernelCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const BACKUP_SUFFIXES = new Set([
  'ignore', 'rpmnew', 'rpmsave', 'rpmorig', 'dpkg-old', 'dpkg-new', 'dpkg-tmp', 'dpkg-dist', 'dpkg-bak',
  'dpkg-backup', 'dpkg-remove', 'ucf-new', 'ucf-old', 'ucf-dist', 'swp', 'bak', 'old', 'new',
]);

/** systemd's hidden_or_backup_file(): entries ConditionDirectoryNotEmpty= does not count. */
export function isHiddenOrBackup(name: string): boolean {
  if (name.startsWith('.') || name.endsWith('~')) return true;
  if (name === 'lost+found' || name === 'aquota.user' || name === 'aquota.group') return true;
  const dot = name.lastIndexOf('.');
  return dot >= 0 && BACKUP_SUFFIXES.has(name.slice(dot + 1));
}

/** systemd's parse_boolean(). */
export function parseBoolean(text: string): boolean | undefined {
  const s = text.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(s)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(s)) return false;
  return undefined;
}
