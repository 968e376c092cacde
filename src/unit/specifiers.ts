/**
 * fleet's unitPrintf: the only specifiers fleet itself expands, and only in
 * [X-Fleet] values. Everything else (%H, %m, ... and all other sections) is
 * left for systemd to expand on the host.
 */
import type { UnitNameInfo } from './name.js';

/**
 * Replaces %n (foo@bar.service), %N (foo@bar), %p (foo) and %i (bar), in that
 * order, as fleet does; there is no "%%" escape.
 */
export function expandSpecifiers(value: string, info: UnitNameInfo): string {
  return value
    .replaceAll('%n', info.fullName)
    .replaceAll('%N', info.name)
    .replaceAll('%p', info.prefix)
    .replaceAll('%i', info.instance);
}
