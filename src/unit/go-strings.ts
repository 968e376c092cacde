/**
 * Go's notion of whitespace (unicode.IsSpace) and the strings helpers built
 * on it. JS's \s and String.prototype.trim differ (they add U+FEFF and drop
 * U+0085); trimmed values feed unit hashes, so the exact set matters.
 */

const GO_SPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function isGoSpace(ch: string): boolean {
  return ch.length === 1 && GO_SPACE.includes(ch);
}

/** strings.TrimSpace */
export function goTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s[start]!)) start++;
  while (end > start && isGoSpace(s[end - 1]!)) end--;
  return s.slice(start, end);
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
