/**
 * Whether a host's verdict on a unit file can differ between the names it
 * runs under: only through specifiers (%i, %n, ...) in [X-Fleet] values or in
 * Condition/Assert lines. Content without them gets one verdict for all its
 * names, so the engine offers it once per round however many units share it
 * (2,000 instances of one template cost one entry and one evaluation), and
 * lists unit names only for content that needs them. Engine and agent use
 * this one rule.
 */
import { X_FLEET_SECTION } from './requirements.js';
import type { UnitFile } from './unit-file.js';

const CONDITION_OR_ASSERT = /^(Condition|Assert)/;
const memo = new WeakMap<UnitFile, boolean>();

export function verdictDependsOnName(file: UnitFile): boolean {
  let v = memo.get(file);
  if (v === undefined) {
    v = file.options.some((o) => o.value.includes('%') && (o.section === X_FLEET_SECTION || CONDITION_OR_ASSERT.test(o.name)));
    memo.set(file, v);
  }
  return v;
}
