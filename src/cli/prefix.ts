/**
 * fleetctl accepted any unambiguous prefix of a command (`fleetctl list-m`);
 * commander does not, so the command word is expanded before parsing.
 */

/** Index of the command word in argv, skipping global flags and their values; -1 if none. */
export function commandIndex(argv: readonly string[], valueFlags: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (!a.includes('=') && valueFlags.includes(a)) i++;
  }
  return -1;
}

export function expandCommandPrefix(argv: readonly string[], commands: readonly string[], valueFlags: readonly string[]): string[] {
  const out = [...argv];
  const i = commandIndex(argv, valueFlags);
  if (i < 0) return out;
  const word = out[i] as string;
  if (commands.includes(word)) return out;
  const matches = commands.filter((c) => c.startsWith(word));
  if (matches.length === 1) out[i] = matches[0] as string;
  return out;
}
