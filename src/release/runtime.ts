/**
 * The Node runtime a release carries: a copy of the build machine's node
 * binary (symbol table and debug info stripped when `strip` is there: 98 MB
 * -> 86 MB; the dynamic symbols addons link against stay), and
 * what it needs from a host, read from the binary's own symbol version
 * references (what `objdump -T` lists), not assumed.
 */
import { spawn } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';

export interface RuntimeNeeds {
  /** Highest GLIBC_x.y the binary references, e.g. "2.28". */
  glibc: string;
  /** Highest GLIBCXX_3.4.x, e.g. "3.4.21". */
  glibcxx: string;
  /** Shared libraries it links (DT_NEEDED as the loader lists them). */
  libraries: string[];
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function highest(text: string, re: RegExp): string {
  let best = '';
  for (const m of text.matchAll(re)) if (m[1] && (best === '' || compareVersions(m[1], best) > 0)) best = m[1];
  return best;
}

/**
 * Version references live in .dynstr as plain "GLIBC_2.28" strings, and
 * library names as "libstdc++.so.6": a byte scan finds them without binutils.
 */
export async function runtimeNeeds(binary: string): Promise<RuntimeNeeds> {
  const text = (await readFile(binary)).toString('latin1');
  const libraries = [...new Set([...text.matchAll(/(?<=\0)(lib[a-z0-9_+-]+\.so\.\d+)(?=\0)/g)].map((m) => m[1] as string))].sort();
  return {
    glibc: highest(text, /(?<=\0)GLIBC_(\d+\.\d+(?:\.\d+)?)(?=\0)/g),
    glibcxx: highest(text, /(?<=\0)GLIBCXX_(\d+\.\d+\.\d+)(?=\0)/g),
    libraries,
  };
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/** Copy `from` to `to`, stripped when binutils' strip is installed. */
export async function copyRuntime(from: string, to: string): Promise<{ stripped: boolean }> {
  if ((await run('strip', ['-o', to, from])) === 0) return { stripped: true };
  await copyFile(from, to);
  return { stripped: false };
}
