/**
 * Go's path.Match, used by fleet for Conflicts, Replaces and MachineOf
 * checks: "*" (any run without "/"), "?" (one char but "/"), "[...]" classes
 * with "^" negation and ranges, "\" escapes. Fleet ignores Match's error, so
 * a malformed pattern (Go's ErrBadPattern) simply matches nothing;
 * globIsValid reports it.
 *
 * A pattern is compiled once into chunks, as Go's scanChunk splits it: an
 * optional leading star, then elements that each consume exactly one
 * character. Go takes every chunk after a star at the leftmost position it
 * matches (the last chunk must end the name), never backtracking into an
 * earlier chunk, so a match is one left-to-right pass. Finding a chunk's
 * leftmost position is a bit-parallel scan (shift-and): each name character
 * costs one AND per 32 elements, so a match costs O(name x pattern / 32) at
 * worst whatever the pattern, instead of Go's O(name x pattern) re-tries
 * (and the slicing port's copy per character). Two O(1) checks reject most
 * names first: the name is too short, or lacks a character the pattern
 * requires literally.
 */

/** One character class element: "[^a-z0]" -> negated, ranges [a,z, 0,0]. */
interface ClassElem {
  readonly negated: boolean;
  /** lo, hi code point pairs. */
  readonly ranges: readonly number[];
}

/** A code point (literal), ANY ("?"), or a class. */
type Elem = number | ClassElem;
const ANY = -1;
const SLASH = 0x2f;

interface Chunk {
  /** Preceded by "*": may start anywhere up to the next "/". */
  readonly star: boolean;
  readonly elems: readonly Elem[];
  /** ceil(elems / 32): words of the shift-and state. */
  readonly words: number;
  /** Per ASCII code, `words` words: bit k set when element k accepts it (built lazily, long chunks only). */
  masks: Int32Array | undefined;
  /** Which ASCII codes `masks` holds. */
  readonly built: Uint8Array;
}

/** A name prepared once for matching against many patterns. */
export interface PreparedName {
  /** Code points. */
  readonly codes: Int32Array;
  readonly length: number;
  /** Bit c set when ASCII character c occurs in the name (128 bits). */
  readonly ascii: Uint32Array;
}

export interface CompiledGlob {
  /** False when Go's path.Match would return ErrBadPattern: the pattern then matches nothing. */
  readonly valid: boolean;
  test(name: string): boolean;
  testPrepared(name: PreparedName): boolean;
}

const NEVER: CompiledGlob = { valid: false, test: () => false, testPrepared: () => false };

/** Whether the pattern has metacharacters (else it matches only the name it spells). */
export function isGlob(pattern: string): boolean {
  return META.test(pattern);
}

const META = /[*?[\\]/;

export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

/** False when Go's path.Match would return ErrBadPattern for this pattern. */
export function globIsValid(pattern: string): boolean {
  return compileGlob(pattern).valid;
}

/** The pattern parsed once, to be matched against many names. */
export function compileGlob(pattern: string): CompiledGlob {
  const chunks = parse(codePoints(pattern));
  if (chunks === undefined) return NEVER;
  let minLength = 0;
  const needs = new Uint32Array(4);
  for (const c of chunks) {
    minLength += c.elems.length;
    for (const e of c.elems) if (typeof e === 'number' && e >= 0 && e < 128) needs[e >>> 5] |= 1 << (e & 31);
  }
  const matches = (codes: Int32Array, len: number, ascii: Uint32Array): boolean =>
    len >= minLength &&
    (needs[0]! & ~ascii[0]!) === 0 &&
    (needs[1]! & ~ascii[1]!) === 0 &&
    (needs[2]! & ~ascii[2]!) === 0 &&
    (needs[3]! & ~ascii[3]!) === 0 &&
    matchChunks(chunks, codes, len);
  return {
    valid: true,
    test: (name) => matches(scratchName.codes, loadName(name, scratchName), scratchName.ascii),
    testPrepared: (name) => matches(name.codes, name.length, name.ascii),
  };
}

export function prepareName(name: string): PreparedName {
  const into = { codes: new Int32Array(name.length), ascii: new Uint32Array(4) };
  return { ...into, length: loadName(name, into) };
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}

/** The name matched by `test`, in buffers reused by every call (matching never re-enters itself). */
const scratchName = { codes: new Int32Array(256), ascii: new Uint32Array(4) };

/** Writes the name's code points and ASCII set into `into` (growing its buffer if needed); returns the length. */
function loadName(name: string, into: { codes: Int32Array; ascii: Uint32Array }): number {
  if (into.codes.length < name.length) into.codes = new Int32Array(name.length * 2);
  const codes = into.codes;
  const ascii = into.ascii;
  ascii.fill(0);
  let n = 0;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c < 128) ascii[c >>> 5] |= 1 << (c & 31);
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < name.length) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        i++;
      }
    }
    codes[n++] = c;
  }
  return n;
}

// --- parsing (Go's scanChunk, and matchChunk's syntax checks) ---

const STAR = 0x2a;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const QUESTION = 0x3f;

/** Undefined when the pattern is malformed anywhere (ErrBadPattern). */
function parse(p: readonly number[]): Chunk[] | undefined {
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < p.length) {
    let star = false;
    while (i < p.length && p[i] === STAR) {
      i++;
      star = true;
    }
    // The chunk runs to the next "*" outside brackets.
    let end = i;
    let inRange = false;
    for (; end < p.length; end++) {
      const c = p[end];
      if (c === BACKSLASH) {
        if (end + 1 < p.length) end++;
      } else if (c === OPEN) inRange = true;
      else if (c === CLOSE) inRange = false;
      else if (c === STAR && !inRange) break;
    }
    const elems = parseElems(p, i, end);
    if (elems === undefined) return undefined;
    chunks.push({ star, elems, words: Math.ceil(elems.length / 32), masks: undefined, built: new Uint8Array(128) });
    i = end;
  }
  return chunks;
}

function parseElems(p: readonly number[], from: number, to: number): Elem[] | undefined {
  const elems: Elem[] = [];
  let k = from;
  while (k < to) {
    const c = p[k]!;
    if (c === OPEN) {
      k++;
      let negated = false;
      if (k < to && p[k] === CARET) {
        negated = true;
        k++;
      }
      const ranges: number[] = [];
      for (;;) {
        if (k < to && p[k] === CLOSE && ranges.length > 0) {
          k++;
          break;
        }
        const lo = escaped(p, k, to);
        if (lo === undefined) return undefined;
        k = lo.next;
        let hi = lo.ch;
        if (p[k] === DASH) {
          const h = escaped(p, k + 1, to);
          if (h === undefined) return undefined;
          hi = h.ch;
          k = h.next;
        }
        ranges.push(lo.ch, hi);
      }
      elems.push({ negated, ranges });
    } else if (c === QUESTION) {
      elems.push(ANY);
      k++;
    } else {
      if (c === BACKSLASH) {
        k++;
        if (k >= to) return undefined;
      }
      elems.push(p[k]!);
      k++;
    }
  }
  return elems;
}

/** Go's getEsc: one possibly escaped class character, which must not end the chunk. */
function escaped(p: readonly number[], at: number, to: number): { ch: number; next: number } | undefined {
  let k = at;
  if (k >= to || p[k] === DASH || p[k] === CLOSE) return undefined;
  if (p[k] === BACKSLASH) {
    k++;
    if (k >= to) return undefined;
  }
  const ch = p[k]!;
  k++;
  if (k >= to) return undefined;
  return { ch, next: k };
}

// --- matching ---

function accepts(e: Elem, c: number): boolean {
  if (typeof e === 'number') return e === ANY ? c !== SLASH : e === c;
  let hit = false;
  for (let i = 0; i < e.ranges.length && !hit; i += 2) hit = e.ranges[i]! <= c && c <= e.ranges[i + 1]!;
  return hit !== e.negated;
}

function matchChunks(chunks: readonly Chunk[], s: Int32Array, len: number): boolean {
  const last = chunks[chunks.length - 1];
  // The last chunk must end the name (unless it is a trailing star): the cheapest test first.
  if (last !== undefined && last.elems.length > 0 && !matchesAt(last, s, len, len - last.elems.length)) return false;
  let pos = 0;
  // The first "/" at or after pos: a star may skip characters up to it, not past it.
  let slash = -1;
  for (let ci = 0; ci < chunks.length; ci++) {
    const chunk = chunks[ci]!;
    let limit = pos;
    if (chunk.star) {
      if (slash < pos) slash = indexOfSlash(s, pos, len);
      limit = slash;
      // A trailing star takes the rest, if it has no "/".
      if (chunk.elems.length === 0) return limit === len;
    }
    const n = chunk.elems.length;
    if (ci === chunks.length - 1) {
      // Only one start can end the name (checked above).
      const at = len - n;
      return at >= pos && at <= limit;
    }
    const at = limit === pos ? (matchesAt(chunk, s, len, pos) ? pos : -1) : leftmost(chunk, s, len, pos, limit);
    if (at < 0) return false;
    pos = at + n;
  }
  return pos === len;
}

/** The index of the first "/" at or after `from`, or `len`. */
function indexOfSlash(s: Int32Array, from: number, len: number): number {
  for (let i = from; i < len; i++) if (s[i] === SLASH) return i;
  return len;
}

function matchesAt(chunk: Chunk, s: Int32Array, len: number, at: number): boolean {
  const elems = chunk.elems;
  if (at < 0 || at + elems.length > len) return false;
  for (let k = 0; k < elems.length; k++) if (!accepts(elems[k]!, s[at + k]!)) return false;
  return true;
}

/** Chunks up to this many elements are searched by trying each start. */
const SHORT_CHUNK = 8;

/**
 * The leftmost start in [from, to] where the chunk matches, or -1. Long
 * chunks use shift-and over the name: state bit k means "the last k+1
 * characters match the first k+1 elements".
 */
function leftmost(chunk: Chunk, s: Int32Array, len: number, from: number, to: number): number {
  const n = chunk.elems.length;
  const end = Math.min(len, to + n);
  if (from + n > end) return -1;
  // Short chunks: trying each start costs at most SHORT_CHUNK checks, and needs no masks.
  if (n <= SHORT_CHUNK) {
    const first = chunk.elems[0]!;
    // A literal first element: skip to where it occurs.
    const literal = typeof first === 'number' && first !== ANY ? first : -1;
    for (let at = from; at + n <= end; at++) {
      if (literal >= 0 && s[at] !== literal) continue;
      if (matchesAt(chunk, s, len, at)) return at;
    }
    return -1;
  }
  return chunk.words === 1 ? shiftAnd1(chunk, s, from, end) : shiftAnd(chunk, s, from, end);
}

/** One state word: the common case (chunks of up to 32 elements). */
function shiftAnd1(chunk: Chunk, s: Int32Array, from: number, end: number): number {
  const n = chunk.elems.length;
  const top = 1 << (n - 1);
  maskRow(chunk, s[from]!); // allocates the rows
  const masks = chunk.masks!;
  const built = chunk.built;
  let state = 0;
  for (let j = from; j < end; j++) {
    const c = s[j]!;
    state = ((state << 1) | 1) & masks[c < 128 && built[c] === 1 ? c : maskRow(chunk, c)]!;
    if ((state & top) !== 0) return j - n + 1;
  }
  return -1;
}

/** Reused state for shiftAnd (searches never overlap). */
let state = new Int32Array(8);

function shiftAnd(chunk: Chunk, s: Int32Array, from: number, end: number): number {
  const n = chunk.elems.length;
  const words = chunk.words;
  if (state.length < words) state = new Int32Array(words);
  const st = state;
  st.fill(0, 0, words);
  const topWord = (n - 1) >>> 5;
  const topBit = 1 << ((n - 1) & 31);
  maskRow(chunk, s[from]!); // allocates the rows
  const masks = chunk.masks!;
  const built = chunk.built;
  for (let j = from; j < end; j++) {
    const c = s[j]!;
    const row = c < 128 && built[c] === 1 ? c * words : maskRow(chunk, c);
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const v = st[w]!;
      st[w] = ((v << 1) | carry) & masks[row + w]!;
      carry = v >>> 31;
    }
    if ((st[topWord]! & topBit) !== 0) return j - n + 1;
  }
  return -1;
}

/**
 * Where the mask of code point c starts in chunk.masks: bit k of the row's
 * word k/32 is set when element k accepts c. ASCII rows are built once, on
 * first use; row 128 is rebuilt for each other character.
 */
function maskRow(chunk: Chunk, c: number): number {
  const words = chunk.words;
  const masks = (chunk.masks ??= new Int32Array(129 * words));
  const ascii = c < 128;
  const row = (ascii ? c : 128) * words;
  if (ascii && chunk.built[c] === 1) return row;
  const elems = chunk.elems;
  masks.fill(0, row, row + words);
  for (let k = 0; k < elems.length; k++) if (accepts(elems[k]!, c)) masks[row + (k >>> 5)] |= 1 << (k & 31);
  if (ascii) chunk.built[c] = 1;
  return row;
}
