/**
 * flotilla.ini: the per-unit desired state of a source. Every unit is
 * launched unless this file says otherwise:
 *
 *   # comments start with # or ;
 *   [desired]
 *   web@3.service = loaded      # placed and loaded, not started
 *   batch.service = inactive    # stored in the cluster, not placed
 *
 * Kept out of the unit files on purpose: the state is not part of a unit's
 * content or hash, so changing it never replaces a unit. Strict: an unknown
 * section, a bad state or a repeated name is an error with its line number.
 */
import { DESIRED_STATES, type DesiredState, isDesiredState } from '../registry/records.js';

export interface Manifest {
  desired: Map<string, { state: DesiredState; line: number }>;
}

export const MANIFEST_SECTIONS = ['desired'] as const;

/** Errors read "line N: why"; the caller names the file. */
export function parseManifest(text: string): { manifest: Manifest; errors: string[] } {
  const manifest: Manifest = { desired: new Map() };
  const errors: string[] = [];
  const at = (n: number, why: string): void => void errors.push(`line ${n}: ${why}`);
  let section: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/\s[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      if (!(MANIFEST_SECTIONS as readonly string[]).includes(section)) at(n, `unknown section [${section}] (known: ${MANIFEST_SECTIONS.map((s) => `[${s}]`).join(', ')})`);
      return;
    }
    const kv = /^([^=\s]+)\s*=\s*(\S*)$/.exec(line);
    if (!kv) return at(n, 'expected "UNIT = STATE", e.g. "web@1.service = loaded"');
    if (section !== 'desired') return at(n, section === undefined ? 'entry outside a section: put it under [desired]' : `entry in unknown section [${section}]`);
    const [, unit, state] = kv as unknown as [string, string, string];
    if (!isDesiredState(state)) return at(n, `${unit}: unknown state ${JSON.stringify(state)} (use ${DESIRED_STATES.join(', ')})`);
    const prev = manifest.desired.get(unit);
    if (prev) return at(n, `${unit} is already given on line ${prev.line}`);
    manifest.desired.set(unit, { state, line: n });
  });
  return { manifest, errors };
}
