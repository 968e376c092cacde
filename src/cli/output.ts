/**
 * The one place flotctl writes to the terminal. Commands and operations hand
 * it lines, tables and JSON; it decides newlines, colour and layout.
 *
 * Colour only when the stream is a TTY and NO_COLOR is unset (no-color.org),
 * so pipes and tests always see plain text. Colour is chalk's, loaded by
 * createOutput only when a stream gets it: to a pipe (scripts, the list
 * commands' fast path) flotctl starts without chalk. Tables follow fleet's tabwriter
 * settings (tab padding, tab width 8) so scripts that split fleetctl output on
 * whitespace keep working.
 *
 * Lines and table cells carry text read from etcd (names, descriptions,
 * metadata, IPs, reasons), which anyone with write access to the store chose:
 * terminal control characters in them are printed escaped (`\x1b`), here and
 * only here, so no record can move the cursor, rewrite the screen, set the
 * title or the clipboard, or reorder text with bidi overrides. JSON stays
 * exact: the same characters are written as \uXXXX escapes, which parse back
 * to the same strings.
 */
import type { OutputSink } from '../client/operations/context.js';

export interface OutputStream {
  write(chunk: string, cb?: (err?: Error | null) => void): boolean;
  isTTY?: boolean;
}

/** A stream that keeps what is written, as a pipe would get it (no TTY): help rendering and tests read `text`. */
export function textStream(): OutputStream & { text: string } {
  return {
    text: '',
    isTTY: false,
    write(chunk: string, cb?: (err?: Error | null) => void): boolean {
      this.text += chunk;
      cb?.();
      return true;
    },
  };
}

export interface OutputOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  env?: Record<string, string | undefined>;
  debug?: boolean;
  /** The colours of the streams that get colour (see wantsColour); without them every stream is plain. createOutput loads them when needed. */
  styles?: Styles;
}

/** The styles flotctl uses (chalk's, at level 1: the 16 basic colours every terminal has). */
export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const plain = (text: string): string => text;
const PLAIN: Styles = { bold: plain, dim: plain, red: plain, yellow: plain };

export interface TableOptions {
  /** Print the header row (fleet's legend); --no-legend turns it off. */
  legend: boolean;
}

/** Lines redrawn in place; persist() prints a line above them for good. */
export interface LiveRegion {
  update(lines: readonly string[]): void;
  persist(text: string): void;
  /** Leaves the last drawn lines on screen. */
  close(): void;
}

const TAB_WIDTH = 8;
const PADDING = 1;

/** Whether a stream gets colour: a TTY, with NO_COLOR unset or empty. */
export function wantsColour(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return stream.isTTY === true && !noColor;
}

/** An Output whose streams are coloured as wantsColour says; chalk is loaded only if one of them is. */
export async function createOutput(opts: Omit<OutputOptions, 'styles'>): Promise<Output> {
  const env = opts.env ?? {};
  if (!wantsColour(opts.stdout, env) && !wantsColour(opts.stderr, env)) return new Output(opts);
  const { Chalk } = await import('chalk');
  return new Output({ ...opts, styles: new Chalk({ level: 1 }) });
}

function line(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * What a terminal could act on: C0 controls (ESC starts escape sequences;
 * CR and BS overwrite), DEL, C1 controls (CSI and OSC have one-byte forms),
 * and the invisible Unicode controls that reorder or split what is shown
 * (bidi embeddings, overrides, isolates and marks; line/paragraph separators).
 */
const CONTROLS = String.raw`\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069`;
/** In a table cell, tab and newline would break the layout too. */
const UNSAFE_IN_CELL = new RegExp(`[${CONTROLS}]`, 'g');
/** In lines, newline separates lines and tab is harmless. */
const UNSAFE_IN_LINE = new RegExp(String.raw`(?![\n\t])[${CONTROLS}]`, 'g');
/** In a stored file shown on a terminal, CR before LF (CRLF files) is harmless too. */
const UNSAFE_IN_FILE = new RegExp(String.raw`(?![\n\t]|\r\n)[${CONTROLS}]`, 'g');

/**
 * JSON.stringify escapes C0 only; DEL, C1 and the Unicode controls are written
 * as \uXXXX too. They can only occur inside strings, so the document parses
 * to exactly the same value.
 */
const UNSAFE_IN_JSON = new RegExp(String.raw`[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]`, 'g');

function jsonEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function escaped(text: string, unsafe: RegExp, as: (c: string) => string = escapeControl): string {
  unsafe.lastIndex = 0;
  return unsafe.test(text) ? text.replace(unsafe, as) : text;
}

/** `text` with every control character a terminal could act on shown as `\xNN` / `\uNNNN` (tab and newline kept). */
export function terminalSafe(text: string): string {
  return escaped(text, UNSAFE_IN_LINE);
}

/** Like terminalSafe, for one table cell: tab and newline escaped too. */
export function terminalSafeCell(text: string): string {
  return escaped(text, UNSAFE_IN_CELL);
}

/**
 * Go text/tabwriter with padchar '\t': every column but the last is padded
 * with tabs up to a multiple of the tab width that leaves at least one
 * column of space after its widest cell.
 */
export function formatTable(rows: ReadonlyArray<readonly string[]>, style: (row: number, text: string) => string = (_, t) => t): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const cellWidths = widths.map((w) => Math.ceil((w + PADDING) / TAB_WIDTH) * TAB_WIDTH);
  const out: string[] = [];
  rows.forEach((row, r) => {
    let text = '';
    row.forEach((cell, i) => {
      text += style(r, cell);
      if (i < row.length - 1) text += '\t'.repeat(Math.ceil(((cellWidths[i] ?? 0) - cell.length) / TAB_WIDTH));
    });
    out.push(`${text}\n`);
  });
  return out.join('');
}

export class Output implements OutputSink {
  private readonly outColour: Styles;
  private readonly errColour: Styles;
  debugEnabled: boolean;

  constructor(private readonly streams: OutputOptions) {
    const env = streams.env ?? {};
    const styles = streams.styles ?? PLAIN;
    this.outColour = wantsColour(streams.stdout, env) ? styles : PLAIN;
    this.errColour = wantsColour(streams.stderr, env) ? styles : PLAIN;
    this.debugEnabled = streams.debug ?? false;
  }

  /** A result or progress line on stdout. */
  out(text: string): void {
    this.streams.stdout.write(line(terminalSafe(text)));
  }

  /** A warning or notice on stderr; fleet's "WARNING:" lines stand out in a terminal. */
  err(text: string): void {
    const safe = terminalSafe(text);
    const styled = /^warning/i.test(safe) ? this.errColour.yellow(safe) : safe;
    this.streams.stderr.write(line(styled));
  }

  /** A failure on stderr. */
  error(text: string): void {
    this.streams.stderr.write(line(this.errColour.red(terminalSafe(text))));
  }

  debug(text: string): void {
    if (this.debugEnabled) this.streams.stderr.write(line(this.errColour.dim(`DEBUG ${terminalSafe(text)}`)));
  }

  /** Text exactly as given (help text, a remote command's own output). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  /**
   * A file as stored in the cluster (`cat`): byte-exact to a pipe or a file, so
   * `flotctl cat u > u.service` round-trips; on a terminal its control characters
   * are shown escaped, with a warning saying how to get the exact bytes.
   */
  storedFile(text: string, what: string): void {
    const safe = this.streams.stdout.isTTY === true ? escaped(text, UNSAFE_IN_FILE) : text;
    this.streams.stdout.write(safe);
    if (safe !== text) this.err(`WARNING: ${what} holds terminal control characters, shown escaped (\\xNN); redirect the output for the exact bytes`);
  }

  rawErr(text: string): void {
    this.streams.stderr.write(text);
  }

  /** Header = upper-cased field names, as fleet prints them. */
  table(fields: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: TableOptions): void {
    const cells = rows.map((row) => row.map(terminalSafeCell));
    const all = opts.legend ? [fields.map((f) => f.toUpperCase()), ...cells] : cells;
    if (all.length === 0) return;
    const bold = opts.legend ? (r: number, t: string): string => (r === 0 ? this.outColour.bold(t) : t) : undefined;
    this.streams.stdout.write(formatTable(all, bold));
  }

  json(value: unknown): void {
    this.streams.stdout.write(`${escaped(JSON.stringify(value, null, 2), UNSAFE_IN_JSON, jsonEscape)}\n`);
  }

  /**
   * A block of lines redrawn in place on a terminal (progress), or undefined
   * when stdout is not a TTY: then callers print plain lines instead.
   * log-update is loaded only here, so other commands never pay for it.
   */
  async liveRegion(): Promise<LiveRegion | undefined> {
    if (this.streams.stdout.isTTY !== true) return undefined;
    const { createLogUpdate } = await import('log-update');
    const stream = this.streams.stdout as unknown as NodeJS.WriteStream;
    const update = createLogUpdate(stream);
    return {
      update: (lines) => update(lines.join('\n')),
      persist: (text) => {
        update.clear();
        this.out(text);
      },
      close: () => update.done(),
    };
  }

  /** Resolves once everything written so far has been handed to the OS, so exiting cannot truncate output. */
  async flush(): Promise<void> {
    await Promise.all(
      [this.streams.stdout, this.streams.stderr].map(
        (s) => new Promise<void>((resolve) => {
          s.write('', () => resolve());
        }),
      ),
    );
  }
}
