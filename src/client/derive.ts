/**
 * How a unit's current state is derived from what the engine and agents
 * wrote (fleet's determineJobState, adapted to assignments): pure functions,
 * so list and single-unit reads cannot disagree and tests need no store.
 */
import type { PlacedAssignment } from '../registry/registry.js';
import type { UnitRecord, UnitStateRecord, UnplacedRecord } from '../registry/records.js';
import { UnitFile, parseRequirements } from '../unit/index.js';
import type { UnitSummary, UnitStateView } from './types.js';

/** What the client needs from a unit's content; immutable per hash, so cached by hash. */
export interface ContentInfo {
  file: UnitFile | undefined;
  global: boolean;
  description: string | undefined;
}

/** Content that is missing or unparsable counts as a plain, non-global unit. */
export function contentInfo(text: string | undefined, unitName: string): ContentInfo {
  if (text === undefined) return { file: undefined, global: false, description: undefined };
  let file: UnitFile;
  try {
    file = UnitFile.parse(text);
  } catch {
    return { file: undefined, global: false, description: undefined };
  }
  // Global= takes no specifiers, so the answer is the same for every unit sharing this content.
  const global = text.includes('Global') && parseRequirements(file, unitName).requirements.global;
  return { file, global, description: file.description() };
}

/**
 * Non-global unit assigned to machine M: the state M published is current
 * only if it is for the assigned content (hash); otherwise, e.g. right after a
 * replace, M still runs the old version and the unit counts as inactive.
 * Agents that leave the hash empty are trusted.
 */
export function deriveSummary(
  record: UnitRecord,
  info: ContentInfo,
  assignment: PlacedAssignment | undefined,
  states: readonly UnitStateRecord[],
  unplaced?: UnplacedRecord,
): UnitSummary {
  const summary: UnitSummary = {
    name: record.name,
    hash: record.hash,
    desiredState: record.desired,
    currentState: 'inactive',
    global: info.global,
  };
  if (info.description !== undefined) summary.description = info.description;
  const placed = info.global ? states.length > 0 : assignment !== undefined;
  if (unplaced && isCurrentProblem(record, unplaced, placed)) summary.unplaced = { reasons: { ...unplaced.reasons }, at: unplaced.at };
  if (info.global) {
    summary.currentState = record.desired;
    return summary;
  }
  if (!assignment) return summary;
  summary.machineId = assignment.machineId;
  const state = states.find((s) => s.machineId === assignment.machineId && s.unit === record.name);
  if (state && (state.hash === '' || state.hash === assignment.hash)) {
    summary.currentState = state.applied;
    if (state.failure !== undefined) summary.failure = state.failure;
  }
  return summary;
}

/**
 * The engine deletes a record once the unit is placed, but the client may
 * read in between, and a record for older content says nothing about a
 * replaced unit: only a report for this content, while nothing runs it, counts.
 */
function isCurrentProblem(record: UnitRecord, unplaced: UnplacedRecord, placed: boolean): boolean {
  return record.desired !== 'inactive' && !placed && unplaced.hash === record.hash && unplaced.unit === record.name;
}

export function toStateView(s: UnitStateRecord): UnitStateView {
  const view: UnitStateView = { name: s.unit, machineId: s.machineId, hash: s.hash, load: s.load, active: s.active, sub: s.sub };
  if (s.failure !== undefined) view.failure = s.failure;
  return view;
}

/** At most one assignment per non-global unit is expected; if the engine briefly wrote two, the lowest machine id wins. */
export function assignmentsByUnit(assignments: readonly PlacedAssignment[]): Map<string, PlacedAssignment> {
  const out = new Map<string, PlacedAssignment>();
  for (const a of assignments) {
    const seen = out.get(a.unit);
    if (!seen || a.machineId < seen.machineId) out.set(a.unit, a);
  }
  return out;
}

export function statesByUnit(states: readonly UnitStateRecord[]): Map<string, UnitStateRecord[]> {
  const out = new Map<string, UnitStateRecord[]>();
  for (const s of states) {
    const list = out.get(s.unit);
    if (list) list.push(s);
    else out.set(s.unit, [s]);
  }
  return out;
}
