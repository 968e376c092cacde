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
import { goTrim, isGoSpace } from './go-strings.js';

/** systemd's LINE_MAX on common platforms; longer lines get truncated by systemd. */
export const LINE_MAX = 2048;

export function lexUnitFile(src: string): UnitOption[] {
  checkLineLengths(src);
  return new Lexer(src).run();
}

// Go peeks LINE_MAX bytes at every lexer step and fails if none is "\r" or
// "\n"; that amounts to "no run of >= LINE_MAX bytes between line breaks".
function checkLineLengths(src: string): void {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= src.length; i++) {
    const ch = src[i];
    if (i < src.length && ch !== '\n' && ch !== '\r') continue;
    // A UTF-16 unit is at most 3 UTF-8 bytes: skip the byte count for short runs.
    if ((i - start) * 3 >= LINE_MAX) {
      const bytes = Buffer.byteLength(src.slice(start, i), 'utf8');
      if (bytes >= LINE_MAX) {
        throw new UnitFileError(
          line,
          `line too long (max ${LINE_MAX} bytes): ${bytes} bytes without a line break; split it with a trailing "\\" continuation`,
        );
      }
    }
    if (ch === '\n') line++;
    start = i + 1;
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
    const eol = this.indexOfLineBreak(this.pos, '\n');
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
      const ch = this.src[this.pos]!;
      if (isGoSpace(ch)) {
        this.pos++;
        if (ch === '\n') this.line++;
        continue;
      }
      if (ch === '[') {
        this.pos++;
        return this.lexSectionHeader();
      }
      if (ch === '#' || ch === ';') {
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
    const eol = this.indexOfLineBreak(this.pos, '\n', '\r');
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

  private indexOfLineBreak(from: number, ...breaks: string[]): number {
    let best = this.src.length;
    for (const b of breaks) {
      const i = this.src.indexOf(b, from);
      if (i !== -1 && i < best) best = i;
    }
    return best;
  }
}
