/**
 * A line-by-line port of Go's path.Match (slices, recursion-free, the way Go
 * writes it): the oracle src/unit/glob.ts is checked against. It copies the
 * rest of the pattern and name at every step, so it is only for small inputs.
 */

class BadPattern extends Error {}

export function referenceMatch(pattern: string, name: string): boolean {
  try {
    return match([...pattern], [...name]);
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

/** False when Go's path.Match would return ErrBadPattern for this pattern. */
export function referenceIsValid(pattern: string): boolean {
  try {
    let rest = [...pattern];
    while (rest.length > 0) {
      const scanned = scanChunk(rest);
      matchChunk(scanned.chunk, []);
      rest = scanned.rest;
    }
    return true;
  } catch (err) {
    if (err instanceof BadPattern) return false;
    throw err;
  }
}

type Chars = string[];

function match(patternIn: Chars, nameIn: Chars): boolean {
  let pattern = patternIn;
  let name = nameIn;
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes('/');
    const t = matchChunk(chunk, name);
    // The last chunk must consume the whole name, else try the star instead.
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 !== undefined) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue outer;
        }
      }
    }
    // Like Go, report a syntax error in the rest of the pattern even on a miss.
    while (pattern.length > 0) {
      const scanned = scanChunk(pattern);
      matchChunk(scanned.chunk, []);
      pattern = scanned.rest;
    }
    return false;
  }
  return name.length === 0;
}

function scanChunk(patternIn: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let pattern = patternIn;
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** Returns the unmatched rest of s, or undefined if chunk does not match its start. */
function matchChunk(chunkIn: Chars, sIn: Chars): Chars | undefined {
  let chunk = chunkIn;
  let s = sIn;
  // Keep parsing after a mismatch so syntax errors surface like in Go.
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = '';
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let matched = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.ch;
        if (chunk[0] === '-') {
          const h = getEsc(chunk.slice(1));
          hi = h.ch;
          chunk = h.rest;
        }
        if (!failed && cp(lo.ch) <= cp(r) && cp(r) <= cp(hi)) matched = true;
        nrange++;
      }
      if (matched === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPattern();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

function getEsc(chunkIn: Chars): { ch: string; rest: Chars } {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPattern();
  }
  const ch = chunk[0]!;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadPattern();
  return { ch, rest };
}

function cp(ch: string): number {
  return ch.codePointAt(0) ?? -1;
}
