/**
 * Dynamic machine metadata (P/metadata/<machine>/<key>) and how it overlays
 * a machine's config metadata. mergeMetadata is the one overlay rule (client
 * listing, engine snapshot, agent's own view); the machine listing decodes
 * with decodeDynamicMetadata. The engine's and the agent's own key decoding
 * are still to switch to these decoders (issue 9).
 */
import type { Keys } from './keys.js';

export interface KeyValueText {
  key: string;
  value: string;
}

/** Dynamic metadata per machine; keys that are not P/metadata/<machine>/<key> are skipped. */
export function decodeDynamicMetadata(keys: Keys, entries: Iterable<KeyValueText>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const e of entries) {
    const at = keys.metadataOfKey(e.key);
    if (!at) continue;
    let m = out.get(at.machineId);
    if (!m) out.set(at.machineId, (m = {}));
    m[at.key] = e.value;
  }
  return out;
}

/** One machine's dynamic metadata, from entries under any prefix (others are skipped). */
export function decodeMachineDynamicMetadata(keys: Keys, machineId: string, entries: Iterable<KeyValueText>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const at = keys.metadataOfKey(e.key);
    if (at && at.machineId === machineId) out[at.key] = e.value;
  }
  return out;
}

/** Dynamic metadata wins; an empty dynamic value removes the key (fleet's tombstone). */
export function mergeMetadata(config: Record<string, string>, dynamic: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...config };
  for (const [k, v] of Object.entries(dynamic ?? {})) {
    if (v === '') delete out[k];
    else out[k] = v;
  }
  return out;
}
