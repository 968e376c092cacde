/**
 * Port of go-systemd's unit.Deserialize lexer (the version fleet vendored).
 * Unit hashes are SHA-1 over the re-serialized option list, so every
 * acceptance or rejection here decides whether a Flotilla hash agrees with
 * fleet's for the same file; mirror the Go state machine rather than systemd.
 *
 * Deliberate differences, all on input Go either mangles or half-accepts:
 * - "\r\n" is stripped as a unit, so a continuation backslash before CRLF
 *   still continues (Go keeps the "\r" and silently ends the value).
 * - a section header must close on its own line (Go reads up to the next "]"
 *   anywhere in the file, producing section names containing newlines).
 * - every error carries the 1-based line number.
 */
import { Buffer } from 'node:buffer';
import type { UnitOption } from './unit-file.js';
import { UnitFileError } from './unit-file-error.js';
import { goTrim, isGoSpaceCode } from './go-strings.js';
import { UNIT_LIMITS } from './limits.js';

/** systemd's LINE_MAX on common platforms; longer lines get truncated by systemd. */
export const LINE_MAX = UNIT_LIMITS.lineBytes;

export function lexUnitFile(src: string): UnitOption[] {
  checkLineLengths(src);
  return new Lexer(src).run();
}

// Go peeks LINE_MAX bytes at every lexer step and fails if none is "\r" or
// "\n"; that amounts to "no run of >= LINE_MAX bytes between line breaks".
function checkLineLengths(src: string): void {
  let line = 1;
  // From one "\n" to the next; only a stretch that could be too long is searched for "\r" and counted.
  for (let start = 0; start <= src.length; line++) {
    let nl = src.indexOf('\n', start);
    if (nl === -1) nl = src.length;
    // A UTF-16 unit is at most 3 UTF-8 bytes: short stretches cannot hold a long run.
    if ((nl - start) * 3 >= LINE_MAX) {
      for (const run of src.slice(start, nl).split('\r')) {
        if (run.length * 3 < LINE_MAX) continue;
        const bytes = Buffer.byteLength(run, 'utf8');
        if (bytes >= LINE_MAX) {
          throw new UnitFileError(
            line,
            `line too long (max ${LINE_MAX} bytes): ${bytes} bytes without a line break; split it with a trailing "\\" continuation`,
          );
        }
      }
    }
    start = nl + 1;
  }
}

interface Line {
  readonly text: string;
  readonly eof: boolean;
}

class Lexer {
  private pos = 0;
  private line = 1;
  private readonly options: UnitOption[] = [];

  constructor(private readonly src: string) {}

  run(): UnitOption[] {
    let section = this.skipPreamble();
    while (section !== undefined) section = this.lexSectionBody(section);
    return this.options;
  }

  // Go scans character by character for "[" before the first section, so a
  // "[" in the middle of a preamble line opens a section and a "#"/";"
  // anywhere starts a comment.
  private skipPreamble(): string | undefined {
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++];
      if (ch === '\n') this.line++;
      else if (ch === '[') return this.lexSectionHeader();
      else if (ch === '#' || ch === ';') this.skipComment();
    }
    return undefined;
  }

  /** Called with pos just after "["; returns the section name. */
  private lexSectionHeader(): string {
    const startLine = this.line;
    const eol = this.lineEnd(this.pos, false);
    const close = this.src.indexOf(']', this.pos);
    if (close === -1 || close > eol) {
      const header = '[' + this.src.slice(this.pos, eol).replace(/\r$/, '');
      throw new UnitFileError(startLine, `unable to find end of section: ${JSON.stringify(header)} has no closing "]"`);
    }
    const name = this.src.slice(this.pos, close);
    this.pos = close + 1;
    const garbage = goTrim(this.readLine().text);
    if (garbage.length > 0) {
      throw new UnitFileError(
        startLine,
        `found garbage after section name [${name}]: ${JSON.stringify(garbage)}; put options on their own line`,
      );
    }
    return name;
  }

  /** Returns the next section's name, or undefined at end of input. */
  private lexSectionBody(section: string): string | undefined {
    while (this.pos < this.src.length) {
      const c = this.src.charCodeAt(this.pos);
      if (isGoSpaceCode(c)) {
        this.pos++;
        if (c === 0x0a) this.line++;
        continue;
      }
      if (c === 0x5b) {
        this.pos++;
        return this.lexSectionHeader();
      }
      if (c === 0x23 || c === 0x3b) {
        this.pos++;
        this.skipComment();
        continue;
      }
      this.lexOption(section);
    }
    return undefined;
  }

  private skipComment(): void {
    for (;;) {
      const { text, eof } = this.readLine();
      // Go trims exactly one trailing space before looking for the backslash.
      const trimmed = text.endsWith(' ') ? text.slice(0, -1) : text;
      if (eof || !trimmed.endsWith('\\')) return;
    }
  }

  private lexOption(section: string): void {
    const startLine = this.line;
    const eol = this.lineEnd(this.pos, true);
    const eq = this.src.indexOf('=', this.pos);
    if (eq === -1 || eq > eol) {
      const text = goTrim(this.src.slice(this.pos, eol));
      throw new UnitFileError(startLine, `${JSON.stringify(text)} has no "=" (expected Name=Value)`);
    }
    const name = goTrim(this.src.slice(this.pos, eq));
    this.pos = eq + 1;

    // A trailing backslash continues the value: the backslash stays, a "\n"
    // joins the next line verbatim (comment-looking lines included), and a
    // blank line ends it.
    let partial = '';
    for (;;) {
      const { text, eof } = this.readLine();
      if (goTrim(text).length === 0) break;
      partial += text;
      if (eof || !text.endsWith('\\')) break;
      partial += '\n';
    }
    // go-systemd keeps one "\n" when a continuation was ended by a blank line.
    const value = partial.endsWith('\n') ? goTrim(partial) + '\n' : goTrim(partial);
    this.options.push({ section, name, value });
  }

  private readLine(): Line {
    const nl = this.src.indexOf('\n', this.pos);
    let text: string;
    let eof: boolean;
    if (nl === -1) {
      text = this.src.slice(this.pos);
      this.pos = this.src.length;
      eof = true;
    } else {
      text = this.src.slice(this.pos, nl);
      this.pos = nl + 1;
      this.line++;
      eof = false;
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { text, eof };
  }

  /**
   * The next "\n" (or end of input), or an earlier "\r" with `cr`. Only the
   * current line is searched for "\r": searching the rest of the file made
   * every option of an LF file cost the whole file (quadratic).
   */
  private lineEnd(from: number, cr: boolean): number {
    let nl = this.src.indexOf('\n', from);
    if (nl === -1) nl = this.src.length;
    if (cr) {
      for (let i = from; i < nl; i++) if (this.src.charCodeAt(i) === 13) return i;
    }
    return nl;
  }
}
