/**
 * POSIX fnmatch(3) without FNM_PATHNAME or FNM_PERIOD, which is how systemd
 * matches ConditionHost= globs against the hostname: `*` and `?` also match
 * `/` and a leading `.`, brackets take `!` or `^` for negation, ranges and
 * `[:class:]`, and `\` quotes the next character. (src/unit/glob.ts is Go's
 * path.Match, which fleet uses and which differs on all of those points.)
 */

const CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9', alpha: 'a-zA-Z', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9',
  graph: '\\x21-\\x7e', lower: 'a-z', print: '\\x20-\\x7e', punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\r\\f\\v', upper: 'A-Z', xdigit: '0-9A-Fa-f',
};

export function fnmatch(pattern: string, text: string, opts: { caseFold?: boolean } = {}): boolean {
  const re = toRegExp(pattern);
  if (re === undefined) return false;
  return new RegExp(`^(?:${re})$`, opts.caseFold ? 'isu' : 'su').test(text);
}

const escapeChar = (ch: string): string => (/[\\^$.*+?()[\]{}|\-/]/.test(ch) ? `\\${ch}` : ch);

function toRegExp(pattern: string): string | undefined {
  const p = [...pattern];
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] as string;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '\\') out += escapeChar(p[++i] ?? '\\');
    else if (ch === '[') {
      const bracket = readBracket(p, i);
      if (bracket === undefined) out += '\\[';
      else {
        out += bracket.re;
        i = bracket.end;
      }
    } else out += escapeChar(ch);
  }
  return out;
}

/** A bracket expression starting at p[start] === '['; undefined if it never closes (then '[' is literal). */
function readBracket(p: string[], start: number): { re: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (p[i] === '!' || p[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  for (; i < p.length; i++) {
    const ch = p[i] as string;
    if (ch === ']' && !first) return { re: `[${negate ? '^' : ''}${body}]`, end: i };
    first = false;
    if (ch === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':', i + 2);
      const name = close > 0 && p[close + 1] === ']' ? p.slice(i + 2, close).join('') : undefined;
      const cls = name !== undefined && Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
      if (cls !== undefined) {
        body += cls;
        i = close + 1;
        continue;
      }
    }
    let lit = ch;
    if (ch === '\\' && i + 1 < p.length) lit = p[++i] as string;
    if (p[i + 1] === '-' && p[i + 2] !== undefined && p[i + 2] !== ']') {
      let hi = p[i + 2] as string;
      i += 2;
      if (hi === '\\' && i + 1 < p.length) hi = p[++i] as string;
      // An inverted range matches nothing in glibc; a JS regex would throw.
      if ((hi.codePointAt(0) ?? 0) >= (lit.codePointAt(0) ?? 0)) body += `${escapeChar(lit)}-${escapeChar(hi)}`;
      continue;
    }
    body += escapeChar(lit);
  }
  return undefined;
}
