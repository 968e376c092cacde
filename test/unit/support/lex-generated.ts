/** Builds a unit file of `options` short options inside the caller's worker and lexes it: returns the option count. */
import { lexUnitFile } from '../../../src/unit/lexer.js';

export function lexGenerated(options: number, eol: string): number {
  return lexUnitFile(`[Service]${eol}${`A=b${eol}`.repeat(options)}`).length;
}
