/**
 * What a host's judgement of a unit file depends on, decided the same way by
 * the engine (when it writes an offer) and the agent (when it bids).
 *
 * - Only MachineMetadata and Condition/Assert lines are judged by hosts. A
 *   file with neither is accepted by every host unread, so the offer says so
 *   and agents neither fetch nor parse it.
 * - A verdict can differ between the names a file runs under only through
 *   specifiers (%i, %n, ...) in [X-Fleet] values or in Condition/Assert
 *   lines. Other content gets one verdict for all its names: the engine
 *   offers it once per round however many units share it (2,000 instances of
 *   one template cost one entry and one evaluation), and lists unit names
 *   only for content that needs them.
 */
import { parseConditions } from './conditions.js';
import { X_FLEET_SECTION } from './requirements.js';
import type { UnitFile } from './unit-file.js';

const CONDITION_OR_ASSERT = /^(Condition|Assert)/;
const METADATA_KEYS = new Set(['MachineMetadata', 'X-ConditionMachineMetadata']);
const byName = new WeakMap<UnitFile, boolean>();
const judged = new WeakMap<UnitFile, boolean>();

export function verdictDependsOnName(file: UnitFile): boolean {
  let v = byName.get(file);
  if (v === undefined) {
    v = file.options.some((o) => o.value.includes('%') && (o.section === X_FLEET_SECTION || CONDITION_OR_ASSERT.test(o.name)));
    byName.set(file, v);
  }
  return v;
}

/** Whether a host must read the file to judge it: it has MachineMetadata or Condition/Assert lines. */
export function needsHostJudgement(file: UnitFile): boolean {
  let v = judged.get(file);
  if (v === undefined) {
    const conditions = parseConditions(file);
    v = conditions.conditions.length > 0 || conditions.asserts.length > 0 ||
      file.options.some((o) => o.section === X_FLEET_SECTION && METADATA_KEYS.has(o.name) && o.value.trim() !== '');
    judged.set(file, v);
  }
  return v;
}
