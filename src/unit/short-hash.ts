/**
 * The 7-character form fleetctl shows for unit hashes, in a module of its
 * own: list-units needs it without the unit name rules (name.ts, which
 * re-exports it) and the limits and globs they load.
 */
export function shortHash(hash: string): string {
  return hash.slice(0, 7);
}
