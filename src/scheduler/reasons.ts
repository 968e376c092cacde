/**
 * Every reason the scheduler gives for not running a unit on a machine, in
 * one place: they are shown to users (`P/unplaced/<unit>`, engine logs), and
 * placement and re-evaluation must word the same rule the same way.
 */

export const reasons = {
  alreadyThere: 'unit already assigned to this machine',
  noBid: 'host did not bid for the unit',
  machineId: (wanted: string): string => `MachineID is ${wanted}, not this machine`,
  metadata: (key: string, allowed: readonly string[], actual: string | undefined): string =>
    `MachineMetadata requires ${allowed.map((v) => `${key}=${v}`).join(' or ')}; ` +
    (actual === undefined ? `machine has no ${key}` : `machine has ${key}=${actual}`),
  conflicts: (other: string): string => `conflicts with ${other}`,
  peerMissing: (peer: string): string => `requires peer ${peer}, which is not on this machine`,
  peerLeaving: (peer: string): string => `requires peer ${peer}, which is leaving this machine`,
  replacedBy: (replacer: string): string => `replaced by ${replacer}, which is on this machine`,
  machineOfCycle: (members: readonly string[]): string =>
    members.length === 1
      ? `MachineOf names the unit itself (${members[0]}): it can never be placed`
      : `MachineOf cycle among ${members.join(', ')}: none of them can be placed first`,
  /** The round resolved without some machines' bids: this machine has its even share; the rest waits for the next round. */
  fairShare: (cap: number): string => `machine has its even share (${cap}) until the machines that did not bid yet have bid`,
  /** A unit moved once in a round and displaced again: wait for the next round rather than chase it. */
  displacedTwice: (why: string): string => `${why} (it already moved once this round; it will be placed again next round)`,
} as const;
