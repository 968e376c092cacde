/**
 * Unit names the agent writes on every host for itself (the lease dead man's
 * switch, see src/agent/fence.ts), force-linked into the host's systemd. A
 * user unit of the same name would replace them, so unit name validation
 * (name.ts, shared by flotctl, engine and agent) refuses exactly these.
 */

/** Active while the agent renews its lease; every OnDisconnect=stop unit is bound to it. */
export const LEASE_TARGET = 'flotilla-lease.target';
/** What the switch starts when it fires; conflicts with the lease target. */
export const FENCE_TARGET = 'flotilla-fence.target';
/** The switch itself, re-armed on every lease renewal. */
export const FENCE_TIMER = 'flotilla-fence.timer';

export const RESERVED_UNIT_NAMES: ReadonlySet<string> = new Set([LEASE_TARGET, FENCE_TARGET, FENCE_TIMER]);
