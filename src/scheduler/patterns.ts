/**
 * Conflicts and Replaces patterns are matched against many unit names per
 * round. Most are plain names or use only "*" ("web@*.service"); those get
 * exact fast paths with the same result as Go's path.Match (a pattern
 * without metacharacters matches only itself; "*" matches any run of
 * characters but "/"). Anything else, and any name containing "/", goes to
 * the compiled glob. A plain name can also be looked up in a set instead of
 * scanned. Each pattern is compiled once, and each name prepared once for
 * the compiled globs.
 */
import { compileGlob, isGlob, prepareName, type PreparedName } from '../unit/glob.js';

export interface Matcher {
  /** Set when the pattern matches exactly this one name. */
  readonly literal: string | undefined;
  /** `prepared`: the name already prepared (see preparedName), when the caller matches it against many patterns. */
  test(name: string, prepared?: PreparedName): boolean;
}

const CLASS_OR_ESCAPE = /[?[\\]/;
const cache = new Map<string, Matcher>();
/** Patterns come from stored units, so they are bounded by them; the cap only guards memory. */
const CACHE_MAX = 5_000;
const names = new Map<string, PreparedName>();
const NAMES_MAX = 20_000;

export function matcher(pattern: string): Matcher {
  let m = cache.get(pattern);
  if (m) return m;
  if (!isGlob(pattern)) {
    m = { literal: pattern, test: (name) => name === pattern };
  } else if (!CLASS_OR_ESCAPE.test(pattern)) {
    const parts = pattern.split('*');
    const glob = compileGlob(pattern);
    m = { literal: undefined, test: (name, prepared) => (name.includes('/') ? glob.testPrepared(prepared ?? preparedName(name)) : starsMatch(parts, name)) };
  } else {
    const glob = compileGlob(pattern);
    m = { literal: undefined, test: (name, prepared) => glob.testPrepared(prepared ?? preparedName(name)) };
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(pattern, m);
  return m;
}

/** A unit name prepared for compiled globs, kept while it is in use (names are bounded like patterns). */
export function preparedName(name: string): PreparedName {
  let p = names.get(name);
  if (p === undefined) {
    if (names.size >= NAMES_MAX) names.clear();
    names.set(name, (p = prepareName(name)));
  }
  return p;
}

export function matchesAny(patterns: readonly string[], name: string): boolean {
  for (const p of patterns) if (matcher(p).test(name)) return true;
  return false;
}

/**
 * Match literal parts separated by "*" against a name without "/": first
 * part as prefix, last as suffix, the others leftmost in order between them
 * (leftmost is always safe when "*" is the only wildcard).
 */
function starsMatch(parts: readonly string[], name: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const found = name.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
