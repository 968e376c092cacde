/**
 * Unit name <-> D-Bus object path, the way systemd itself spells paths
 * (bus_label_escape in systemd's bus-label.c). We must produce exactly
 * systemd's spelling: signals arrive on systemd's canonical path, and a
 * path that only decodes to the same name would never match them.
 */

export const UNIT_PATH_PREFIX = '/org/freedesktop/systemd1/unit/';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isAlpha(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Escape one object-path element: bytes outside [A-Za-z0-9] become `_xx`
 *  (lower-case hex). Like systemd, a leading digit is escaped too, because
 *  systemd does so, and the empty label is `_`. */
export function escapeLabel(label: string): string {
  if (label === '') return '_';
  const bytes = encoder.encode(label);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (isAlpha(b) || (i > 0 && isDigit(b))) out += String.fromCharCode(b);
    else out += '_' + b.toString(16).padStart(2, '0');
  }
  return out;
}

/** Inverse of escapeLabel. Malformed escapes are kept literally rather than
 *  thrown: the input comes from the bus, and a name we cannot decode should
 *  surface as an odd unit name, not as an exception in a signal handler. */
export function unescapeLabel(label: string): string {
  if (label === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5f /* _ */ && /^[0-9a-fA-F]{2}$/.test(label.slice(i + 1, i + 3))) {
      bytes.push(parseInt(label.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of encoder.encode(label[i]!)) bytes.push(b);
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

export function unitObjectPath(name: string): string {
  return UNIT_PATH_PREFIX + escapeLabel(name);
}

/** Throws for paths outside the unit namespace: callers only pass paths from
 *  our PropertiesChanged match, so anything else is a programming error. */
export function unitNameFromObjectPath(path: string): string {
  if (!path.startsWith(UNIT_PATH_PREFIX) || path.length === UNIT_PATH_PREFIX.length) {
    throw new Error(`not a systemd unit object path: ${path}`);
  }
  const label = path.slice(UNIT_PATH_PREFIX.length);
  if (label.includes('/')) throw new Error(`not a systemd unit object path: ${path}`);
  return unescapeLabel(label);
}
