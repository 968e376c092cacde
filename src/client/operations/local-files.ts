/** Reading unit files named on the command line. */
import { readFile, stat } from 'node:fs/promises';
import { fileSizeProblem } from '../../unit/index.js';
import { InvalidInputError } from '../../util/errors.js';

export interface LocalFiles {
  /** The file's text, or undefined if there is no such file; other failures throw. */
  read(path: string): Promise<string | undefined>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const nodeFiles: LocalFiles = {
  async read(path: string): Promise<string | undefined> {
    let bytes: Buffer;
    try {
      // Checked before reading, so a huge file is never read whole.
      const tooBig = fileSizeProblem((await stat(path)).size);
      if (tooBig !== undefined) throw new InvalidInputError(`${path}: ${tooBig}`);
      bytes = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    return decodeUnitFile(path, bytes);
  },
};

/**
 * A unit file's bytes as text. Invalid UTF-8 is refused rather than turned
 * into U+FFFD: the stored unit (and its hash) would silently differ from the
 * file, and systemd would read different bytes than the user wrote.
 */
export function decodeUnitFile(path: string, bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const line = 1 + bytes.subarray(0, at).filter((b) => b === 0x0a).length;
    throw new InvalidInputError(`${path}: not valid UTF-8 (line ${line}, byte ${at + 1}): save the file as UTF-8`);
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629, as TextDecoder checks). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The range the second byte must fall in, and how many bytes follow the lead.
    let lo = 0x80;
    let hi = 0xbf;
    let follow: number;
    if (b >= 0xc2 && b <= 0xdf) follow = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      follow = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      follow = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= follow; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += follow + 1;
  }
  return bytes.length;
}
