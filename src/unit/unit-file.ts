/**
 * A systemd unit file as fleet sees it: an ordered list of (section, name,
 * value) options. The option list is canonical; comments, whitespace and
 * section repetition are not preserved, which is what makes the hash stable
 * across cosmetic edits and equal to fleet's for the same content.
 */
import { createHash } from 'node:crypto';
import { lexUnitFile } from './lexer.js';

export { UnitFileError } from './unit-file-error.js';

export interface UnitOption {
  readonly section: string;
  readonly name: string;
  readonly value: string;
}

export class UnitFile {
  readonly options: readonly UnitOption[];
  private serialized: string | undefined;
  private digest: string | undefined;

  /** `owned`: the options are fresh objects no one else holds (the lexer's), frozen in place instead of copied. */
  private constructor(options: readonly UnitOption[], owned = false) {
    const copy = owned ? (options as UnitOption[]) : options.map((o) => ({ section: o.section, name: o.name, value: o.value }));
    for (const o of copy) Object.freeze(o);
    this.options = Object.freeze(copy);
  }

  /** Parses unit file text; throws UnitFileError (with a line number) on malformed input. */
  static parse(text: string): UnitFile {
    return new UnitFile(lexUnitFile(text), true);
  }

  /**
   * Wraps an option list as received over the API. Nothing is validated here,
   * matching fleet; use validateUnitFile to check it survives a round trip.
   */
  static fromOptions(options: readonly UnitOption[]): UnitFile {
    return new UnitFile(options);
  }

  /**
   * go-systemd's Serialize: sections in order of first appearance, each
   * section's options in original order, "Name=Value" lines, one blank line
   * between sections and none at the end.
   */
  serialize(): string {
    if (this.serialized === undefined) this.serialized = serializeOptions(this.options);
    return this.serialized;
  }

  /** 40-hex SHA-1 of serialize(); equal hashes are how fleet decides two units match. */
  hash(): string {
    if (this.digest === undefined) this.digest = createHash('sha1').update(this.serialize(), 'utf8').digest('hex');
    return this.digest;
  }

  /** Raw values of every `name` option in `section`, in file order. */
  values(section: string, name: string): string[] {
    return this.options.filter((o) => o.section === section && o.name === name).map((o) => o.value);
  }

  sections(): string[] {
    return [...new Set(this.options.map((o) => o.section))];
  }

  description(): string | undefined {
    return this.values('Unit', 'Description')[0];
  }

  /** Same content, as fleet's MatchUnitFiles decides it. */
  matches(other: UnitFile): boolean {
    return this.hash() === other.hash();
  }
}

/** Options by section, sections in order of first appearance, each section's options in file order: the stored order. */
export function groupBySection(options: readonly UnitOption[]): Map<string, UnitOption[]> {
  const bySection = new Map<string, UnitOption[]>();
  for (const opt of options) {
    const list = bySection.get(opt.section);
    if (list) list.push(opt);
    else bySection.set(opt.section, [opt]);
  }
  return bySection;
}

function serializeOptions(options: readonly UnitOption[]): string {
  const blocks: string[] = [];
  for (const [section, opts] of groupBySection(options)) {
    blocks.push(`[${section}]\n` + opts.map((o) => `${o.name}=${o.value}\n`).join(''));
  }
  return blocks.join('\n');
}
