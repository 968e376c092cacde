/**
 * Which help text an invocation asks for, in a module that imports nothing
 * (fast-answer.ts answers help from the build's pre-rendered texts before loading
 * commander). '' is flotctl's own help; a name is that command's.
 */
export function helpKey(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return '';
  if (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0] as string)) return '';
  if (argv.length !== 2) return undefined;
  const [a, b] = argv as [string, string];
  if (a === 'help' && !b.startsWith('-')) return b;
  if ((b === '--help' || b === '-h') && !a.startsWith('-')) return a;
  return undefined;
}

/** The file the build writes beside main.js / the bundle: { version, texts: { key: text } }. */
export const HELP_FILE = 'flotctl-help.json';

/**
 * The pre-rendered text for key, or undefined when there is none that can be
 * trusted (no file, another version's file, a corrupt file): the caller then
 * runs the full CLI, so a bad file can never break help.
 */
export function storedHelp(fileText: string | undefined, version: string, key: string): string | undefined {
  if (fileText === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(fileText);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { version: v, texts } = parsed as { version?: unknown; texts?: unknown };
    if (v !== version || typeof texts !== 'object' || texts === null) return undefined;
    const text = (texts as Record<string, unknown>)[key];
    return typeof text === 'string' && Object.hasOwn(texts, key) ? text : undefined;
  } catch {
    return undefined;
  }
}
