/**
 * When a unit counts as healthy on a host: the gate of a rolling replace
 * (the next unit goes only when the replaced one has been healthy for
 * min-healthy-time) and what `flotctl sync` waits for. Pure: it needs the
 * unit's type and its [Service] Type= / RemainAfterExit= from the content,
 * and what the host's agent reported (LoadState/ActiveState/SubState).
 *
 *   service (not oneshot), socket, other types   active
 *   service Type=oneshot, RemainAfterExit=yes    active (exited)
 *   service Type=oneshot without RemainAfterExit inactive (dead) after its
 *                                                run: the job ended with success
 *   timer                                        active (waiting), or active
 *                                                (running) while its service runs
 *
 * `failed` means systemd gave up (ActiveState failed, or the file could not
 * be loaded): waiting longer cannot help. Anything else is `pending`.
 */
import { isTruthy } from '../unit/index.js';
import type { UnitFile } from '../unit/index.js';

export type Health = 'healthy' | 'pending' | 'failed';

export interface ObservedState {
  load: string;
  active: string;
  sub: string;
}

/** What health depends on in a unit's content, read once per content. */
export interface HealthTraits {
  type: string;
  oneshot: boolean;
  remainAfterExit: boolean;
}

const LOAD_FAILURES: ReadonlySet<string> = new Set(['error', 'bad-setting', 'masked', 'not-found']);

export function healthTraits(unitName: string, file: UnitFile): HealthTraits {
  const type = unitName.slice(unitName.lastIndexOf('.') + 1);
  // systemd: the last assignment wins.
  const last = (name: string): string | undefined => file.values('Service', name).at(-1)?.trim();
  return {
    type,
    oneshot: type === 'service' && last('Type') === 'oneshot',
    remainAfterExit: type === 'service' && isTruthy(last('RemainAfterExit') ?? 'no'),
  };
}

export function unitHealth(traits: HealthTraits, s: ObservedState): Health {
  if (LOAD_FAILURES.has(s.load) || s.active === 'failed') return 'failed';
  if (s.load !== 'loaded') return 'pending';
  if (traits.type === 'timer') return s.active === 'active' && (s.sub === 'waiting' || s.sub === 'running') ? 'healthy' : 'pending';
  if (traits.oneshot && !traits.remainAfterExit) {
    // A failed run ends in `failed`; a successful one back in inactive (dead).
    return s.active === 'inactive' && s.sub === 'dead' ? 'healthy' : 'pending';
  }
  return s.active === 'active' ? 'healthy' : 'pending';
}
