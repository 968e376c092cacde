/**
 * The chaos workload: plain services, some `OnDisconnect=keep` (fleet's
 * behaviour, the default), some `OnDisconnect=stop` (at most one copy, ever)
 * and a global one. The checker learns each unit's policy by parsing the very
 * file that was launched, so the rules it enforces are the ones users write.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRequirements, X_FLEET_SECTION } from '../../src/unit/requirements.js';
import { UnitFile } from '../../src/unit/unit-file.js';

export type DisconnectPolicy = 'keep' | 'stop';

export interface UnitPolicy {
  name: string;
  policy: DisconnectPolicy;
  global: boolean;
  /** Content hash of the launched file, as stored in P/units/<name>. */
  hash: string;
}

export interface WorkloadCounts { keep: number; stop: number; global: number }

/** The last OnDisconnect= wins, as for any systemd-style option; anything but "stop" means keep. */
export function policyOf(name: string, text: string): UnitPolicy {
  const file = UnitFile.parse(text);
  const values = file.values(X_FLEET_SECTION, 'OnDisconnect');
  const last = values[values.length - 1]?.trim().toLowerCase();
  return {
    name,
    policy: last === 'stop' ? 'stop' : 'keep',
    global: parseRequirements(file, name).requirements.global,
    hash: file.hash(),
  };
}

function unitText(kind: 'keep' | 'stop' | 'global', n: number): string {
  const fleet = kind === 'global' ? ['Global=true'] : kind === 'stop' ? ['OnDisconnect=stop'] : ['OnDisconnect=keep'];
  return [
    '[Unit]',
    `Description=chaos ${kind} unit ${n}`,
    '',
    '[Service]',
    'ExecStart=/bin/sleep infinity',
    '',
    '[X-Fleet]',
    ...fleet,
    '',
  ].join('\n');
}

/** Writes the unit files into dir; returns their names and parsed policies. */
export async function writeWorkload(dir: string, counts: WorkloadCounts): Promise<UnitPolicy[]> {
  const out: UnitPolicy[] = [];
  const kinds: ['keep' | 'stop' | 'global', number][] = [['keep', counts.keep], ['stop', counts.stop], ['global', counts.global]];
  for (const [kind, count] of kinds) {
    for (let n = 1; n <= count; n++) {
      const name = `chaos-${kind}-${n}.service`;
      const text = unitText(kind, n);
      await writeFile(join(dir, name), text);
      out.push(policyOf(name, text));
    }
  }
  return out;
}
