/**
 * Go's notion of whitespace (unicode.IsSpace) and the strings helpers built
 * on it. JS's \s and String.prototype.trim differ (they add U+FEFF and drop
 * U+0085); trimmed values feed unit hashes, so the exact set matters.
 */

const GO_SPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function isGoSpace(ch: string): boolean {
  return ch.length === 1 && isGoSpaceCode(ch.charCodeAt(0));
}

/** isGoSpace for a UTF-16 code unit (every Go space is one unit); ASCII first, it is the common case. */
export function isGoSpaceCode(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return GO_SPACE.includes(String.fromCharCode(c));
}

/** strings.TrimSpace */
export function goTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpaceCode(s.charCodeAt(start))) start++;
  while (end > start && isGoSpaceCode(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** strings.Fields */
export function goFields(s: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (const ch of s) {
    if (isGoSpace(ch)) {
      if (current.length > 0) fields.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.length > 0) fields.push(current);
  return fields;
}
