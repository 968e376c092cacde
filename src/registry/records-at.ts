/**
 * Records decoded together with the key they were read from. A unit or
 * machine name appears twice, in the key and in the value: a record counts
 * only if both are valid and agree, so a value cannot act under another
 * key's name (an assignment keyed `web.service` naming `../../etc/x.service`,
 * or a state published under one machine for another). Every reader of the
 * store (engine, agent, client) decodes through these.
 */
import { isValidUnitName } from '../unit/name.js';
import type { Keys } from './keys.js';
import {
  type AssignmentRecord,
  type BidRecord,
  type MachineRecord,
  type OfferRecord,
  type RolloutRecord,
  type UnitRecord,
  type UnitStateRecord,
  type UnplacedRecord,
  decodeAssignment,
  decodeBid,
  decodeMachine,
  decodeOffer,
  decodeRollout,
  decodeUnit,
  decodeUnitState,
  decodeUnplaced,
  isMachineId,
} from './records.js';

export type KeyedDecoder<T> = (text: string, key: string) => T | undefined;

export interface RecordDecoders {
  unit: KeyedDecoder<UnitRecord>;
  machine: KeyedDecoder<MachineRecord>;
  assignment: KeyedDecoder<AssignmentRecord>;
  state: KeyedDecoder<UnitStateRecord>;
  offer: KeyedDecoder<OfferRecord>;
  bid: KeyedDecoder<BidRecord>;
  unplaced: KeyedDecoder<UnplacedRecord>;
  rollout: KeyedDecoder<RolloutRecord>;
}

/** A record whose key is well-formed but whose value is not: what the key alone says. */
export interface AssignmentKey {
  machineId: string;
  unit: string;
}

export function recordDecoders(keys: Keys): RecordDecoders {
  return {
    unit: (text, key) => {
      const r = decodeUnit(text);
      return r && keys.unitOfKey(key) === r.name ? r : undefined;
    },
    machine: (text, key) => {
      const r = decodeMachine(text);
      return r && keys.machineOfKey(key) === r.id ? r : undefined;
    },
    assignment: (text, key) => {
      const r = decodeAssignment(text);
      const k = r && keys.assignmentOfKey(key);
      return k && isMachineId(k.machineId) && k.unit === r.unit ? r : undefined;
    },
    state: (text, key) => {
      const r = decodeUnitState(text);
      const k = r && keys.stateOfKey(key);
      return k && k.unit === r.unit && k.machineId === r.machineId ? r : undefined;
    },
    offer: (text, key) => {
      const r = decodeOffer(text);
      return r && keys.offerOfKey(key) === r.round ? r : undefined;
    },
    bid: (text, key) => {
      const r = decodeBid(text);
      const k = r && keys.bidOfKey(key);
      return k && k.round === r.round && k.machineId === r.machineId ? r : undefined;
    },
    unplaced: (text, key) => {
      const r = decodeUnplaced(text);
      return r && keys.unplacedOfKey(key) === r.unit ? r : undefined;
    },
    // A copy of one source's rollout under another source's key is garbage.
    rollout: (text, key) => {
      const r = decodeRollout(text);
      return r && keys.rolloutOfKey(key) === r.source ? r : undefined;
    },
  };
}

/** The machine and unit an assignment key names, if both are valid (whatever its value holds). */
export function assignmentKeyOf(keys: Keys, key: string): AssignmentKey | undefined {
  const k = keys.assignmentOfKey(key);
  return k && isMachineId(k.machineId) && isValidUnitName(k.unit) ? k : undefined;
}
