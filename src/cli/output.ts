/**
 * The one place flotctl writes to the terminal. Commands and operations hand
 * it lines, tables and JSON; it decides newlines, colour and layout.
 *
 * Colour only when the stream is a TTY and NO_COLOR is unset (no-color.org),
 * so pipes and tests always see plain text. Tables follow fleet's tabwriter
 * settings (tab padding, tab width 8) so scripts that split fleetctl output on
 * whitespace keep working.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { OutputSink } from '../client/operations/context.js';

export interface OutputStream {
  write(chunk: string, cb?: (err?: Error | null) => void): boolean;
  isTTY?: boolean;
}

export interface OutputOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  env?: Record<string, string | undefined>;
  debug?: boolean;
}

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

function colourFor(stream: OutputStream, env: Record<string, string | undefined>): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return new Chalk({ level: stream.isTTY === true && !noColor ? 1 : 0 });
}

function line(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
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
  private readonly outColour: ChalkInstance;
  private readonly errColour: ChalkInstance;
  debugEnabled: boolean;

  constructor(private readonly streams: OutputOptions) {
    const env = streams.env ?? {};
    this.outColour = colourFor(streams.stdout, env);
    this.errColour = colourFor(streams.stderr, env);
    this.debugEnabled = streams.debug ?? false;
  }

  /** A result or progress line on stdout. */
  out(text: string): void {
    this.streams.stdout.write(line(text));
  }

  /** A warning or notice on stderr; fleet's "WARNING:" lines stand out in a terminal. */
  err(text: string): void {
    const styled = /^warning/i.test(text) ? this.errColour.yellow(text) : text;
    this.streams.stderr.write(line(styled));
  }

  /** A failure on stderr. */
  error(text: string): void {
    this.streams.stderr.write(line(this.errColour.red(text)));
  }

  debug(text: string): void {
    if (this.debugEnabled) this.streams.stderr.write(line(this.errColour.dim(`DEBUG ${text}`)));
  }

  /** Text exactly as given (unit files, help text). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  rawErr(text: string): void {
    this.streams.stderr.write(text);
  }

  /** Header = upper-cased field names, as fleet prints them. */
  table(fields: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: TableOptions): void {
    const all = opts.legend ? [fields.map((f) => f.toUpperCase()), ...rows] : rows;
    if (all.length === 0) return;
    const bold = opts.legend ? (r: number, t: string): string => (r === 0 ? this.outColour.bold(t) : t) : undefined;
    this.streams.stdout.write(formatTable(all, bold));
  }

  json(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
