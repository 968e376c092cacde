/** Reading unit files named on the command line. */
import { readFile } from 'node:fs/promises';

export interface LocalFiles {
  /** The file's text, or undefined if there is no such file; other failures throw. */
  read(path: string): Promise<string | undefined>;
}

export const nodeFiles: LocalFiles = {
  async read(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  },
};
