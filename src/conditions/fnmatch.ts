/**
 * glibc's fnmatch(3) without FNM_PATHNAME or FNM_PERIOD, which is how systemd
 * matches ConditionHost= globs against the hostname: `*` and `?` also match
 * `/` and a leading `.`, brackets take `!` or `^` for negation, ranges and
 * `[:class:]`, `\` quotes the next character, and a `[` that never closes is
 * a literal. (src/unit/glob.ts is Go's path.Match, which fleet uses and which
 * differs on all of those points.)
 *
 * No regular expression: the pattern is compiled into one-character elements
 * and stars, and matched with the classic backtrack-to-the-last-star walk,
 * which costs at most O(pattern x text) steps for every pattern (a regex
 * built from `*` backtracks exponentially).
 *
 * Where glibc gives up on a malformed pattern (a trailing `\`, an unknown
 * class name) the match fails, as it does in glibc; unknown collating
 * elements (`[.xy.]`, `[=xy=]`) do too.
 */

const STAR = 'star';

/** One bracket item: a range of code points, a named class, or a poison that fails the bracket. */
type BracketItem =
  | { readonly kind: 'range'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'class'; readonly test: (c: number) => boolean }
  | { readonly kind: 'poison' };

interface Bracket {
  readonly negate: boolean;
  readonly items: readonly BracketItem[];
}

/** A literal code point, `?` (-1), a bracket, or a star. */
type Elem = number | Bracket | typeof STAR;
const ANY = -1;

interface Compiled {
  readonly elems: readonly Elem[];
  /** glibc fails the whole match (e.g. a trailing backslash). */
  readonly never: boolean;
}

const cp = (s: string): number => s.codePointAt(0)!;
const within = (c: number, lo: string, hi: string): boolean => c >= cp(lo) && c <= cp(hi);

/** The POSIX classes, for the C/UTF-8 locale's ASCII range. */
const CLASSES: Readonly<Record<string, (c: number) => boolean>> = {
  alnum: (c) => within(c, 'a', 'z') || within(c, 'A', 'Z') || within(c, '0', '9'),
  alpha: (c) => within(c, 'a', 'z') || within(c, 'A', 'Z'),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => within(c, '0', '9'),
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => within(c, 'a', 'z'),
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !(within(c, 'a', 'z') || within(c, 'A', 'Z') || within(c, '0', '9')),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => within(c, 'A', 'Z'),
  xdigit: (c) => within(c, '0', '9') || within(c, 'a', 'f') || within(c, 'A', 'F'),
};

export function fnmatch(pattern: string, text: string, opts: { caseFold?: boolean } = {}): boolean {
  const fold = opts.caseFold === true;
  const compiled = compile([...pattern].map(cp), fold);
  if (compiled.never) return false;
  const t = [...text].map(cp);
  return matchElems(compiled.elems, t, fold ? t.map(lower) : t, fold);
}

/** towlower for one code point (only where it stays one code point). */
function lower(c: number): number {
  if (c < 0x80) return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  const l = String.fromCodePoint(c).toLowerCase();
  return [...l].length === 1 ? cp(l) : c;
}

function compile(p: readonly number[], fold: boolean): Compiled {
  const elems: Elem[] = [];
  const f = (c: number): number => (fold ? lower(c) : c);
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === 0x2a) {
      // Consecutive stars are one star.
      if (elems[elems.length - 1] !== STAR) elems.push(STAR);
    } else if (c === 0x3f) {
      elems.push(ANY);
    } else if (c === 0x5c) {
      if (i + 1 >= p.length) return { elems, never: true };
      elems.push(f(p[++i]!));
    } else if (c === 0x5b) {
      const bracket = readBracket(p, i + 1, f);
      if (bracket === undefined) {
        elems.push(0x5b);
      } else {
        elems.push(bracket.bracket);
        i = bracket.end;
      }
    } else {
      elems.push(f(c));
    }
  }
  return { elems, never: false };
}

/**
 * A bracket whose body starts at p[start]; undefined if it never closes (the
 * `[` is then a literal). `end` is the index of the closing `]`.
 */
function readBracket(p: readonly number[], start: number, f: (c: number) => number): { bracket: Bracket; end: number } | undefined {
  let i = start;
  let negate = false;
  if (p[i] === 0x21 || p[i] === 0x5e) {
    negate = true;
    i++;
  }
  const items: BracketItem[] = [];
  let first = true;
  while (i < p.length) {
    const c = p[i]!;
    if (c === 0x5d && !first) return { bracket: { negate, items }, end: i };
    first = false;
    // [:class:], [=c=], [.c.]
    if (c === 0x5b && (p[i + 1] === 0x3a || p[i + 1] === 0x3d || p[i + 1] === 0x2e)) {
      const special = readSpecial(p, i);
      if (special !== undefined) {
        if (special.item !== undefined) items.push(special.item);
        else {
          const lo = special.char!;
          const range = readRangeEnd(p, special.end + 1, f);
          items.push(range ? { kind: 'range', lo: f(lo), hi: range.hi } : { kind: 'range', lo: f(lo), hi: f(lo) });
          i = range ? range.end : special.end;
          i++;
          continue;
        }
        i = special.end + 1;
        continue;
      }
    }
    let lo = c;
    if (c === 0x5c && i + 1 < p.length) lo = p[++i]!;
    const range = readRangeEnd(p, i + 1, f);
    if (range) {
      items.push({ kind: 'range', lo: f(lo), hi: range.hi });
      i = range.end + 1;
    } else {
      items.push({ kind: 'range', lo: f(lo), hi: f(lo) });
      i++;
    }
  }
  return undefined;
}

/** `-hi` at p[at] (not `-]`): the range's end (folded) and the index of its last character. */
function readRangeEnd(p: readonly number[], at: number, f: (c: number) => number): { hi: number; end: number } | undefined {
  if (p[at] !== 0x2d || at + 1 >= p.length || p[at + 1] === 0x5d) return undefined;
  let i = at + 1;
  let hi = p[i]!;
  if (hi === 0x5c && i + 1 < p.length) hi = p[++i]!;
  return { hi: f(hi), end: i };
}

/**
 * `[:name:]`, `[=c=]` or `[.c.]` starting at p[at] === '['. Undefined when
 * it is not one (the `[` is then an ordinary bracket character, as in glibc:
 * class names are lower-case letters only).
 */
function readSpecial(p: readonly number[], at: number): { item?: BracketItem; char?: number; end: number } | undefined {
  const kind = p[at + 1]!;
  let i = at + 2;
  const name: number[] = [];
  for (; i < p.length; i++) {
    if (p[i] === kind && p[i + 1] === 0x5d) break;
    if (kind === 0x3a && !(p[i]! >= 0x61 && p[i]! < 0x7a)) return undefined;
    name.push(p[i]!);
  }
  if (i >= p.length) return undefined;
  const end = i + 1;
  if (kind === 0x3a) {
    const className = String.fromCodePoint(...name);
    const test = Object.hasOwn(CLASSES, className) ? CLASSES[className] : undefined;
    return { item: test !== undefined ? { kind: 'class', test } : { kind: 'poison' }, end };
  }
  // Collating symbols and equivalence classes: single characters only (C/UTF-8 locale).
  if (name.length === 1) return kind === 0x2e ? { char: name[0]!, end } : { item: { kind: 'range', lo: name[0]!, hi: name[0]! }, end };
  return { item: { kind: 'poison' }, end };
}

/** glibc's bracket walk: items in order, a poison item ends it as a failure whatever the negation. */
function bracketMatches(b: Bracket, raw: number, folded: number): boolean {
  for (const item of b.items) {
    if (item.kind === 'poison') return false;
    const hit = item.kind === 'class' ? item.test(raw) : item.lo <= folded && folded <= item.hi;
    if (hit) return !b.negate;
  }
  return b.negate;
}

function elemMatches(e: Elem, raw: number, folded: number, fold: boolean): boolean {
  if (typeof e === 'number') return e === ANY || e === (fold ? folded : raw);
  if (e === STAR) return false;
  return bracketMatches(e, raw, folded);
}

/**
 * Backtrack to the last star only: a later star always covers whatever an
 * earlier one could, so each text position is retried at most once per star
 * restart, O(elems x text) in all.
 */
function matchElems(elems: readonly Elem[], raw: readonly number[], folded: readonly number[], fold: boolean): boolean {
  let pi = 0;
  let ti = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (ti < raw.length) {
    const e = elems[pi];
    if (e === STAR) {
      starAt = pi++;
      resumeAt = ti;
    } else if (e !== undefined && elemMatches(e, raw[ti]!, folded[ti]!, fold)) {
      pi++;
      ti++;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      ti = ++resumeAt;
    } else {
      return false;
    }
  }
  while (elems[pi] === STAR) pi++;
  return pi === elems.length;
}
