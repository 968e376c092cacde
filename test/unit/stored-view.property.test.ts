/**
 * Accepted at submit => the engine, the agents and the stored text all see
 * the options flotctl validated. flotctl validates the parsed local file and
 * stores its serialization; the engine and agents parse that stored text
 * (readStoredUnit) and read requirements, conditions and host-judgement
 * traits from it. Generated files include the corners where the two used to
 * differ (a value ending in "\ " swallowed the next line once stored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  UnitFile,
  needsHostJudgement,
  parseConditions,
  parseRequirements,
  readStoredUnit,
  unitLimitProblem,
  validateUnit,
  verdictDependsOnName,
  type UnitOption,
} from '../../src/unit/index.js';
import { InvalidInputError } from '../../src/util/errors.js';
import { unitName, unitText } from './support/unit-text.js';

function grouped(options: readonly UnitOption[]): UnitOption[] {
  const sections = [...new Set(options.map((o) => o.section))];
  return sections.flatMap((s) => options.filter((o) => o.section === s));
}

test('property: accepted at submit => engine, agent and stored text see the same options', () => {
  let accepted = 0;
  let runs = 0;
  fc.assert(
    fc.property(unitText, unitName, (text, name) => {
      runs++;
      let file: UnitFile;
      let validated: ReturnType<typeof validateUnit>;
      try {
        file = UnitFile.parse(text);
        validated = validateUnit(file, name);
      } catch (err) {
        if (err instanceof InvalidInputError) return; // refused at submit: nothing stored
        throw err;
      }
      accepted++;
      const stored = readStoredUnit(file.serialize());
      assert.ok(typeof stored !== 'string', `stored copy unusable: ${String(stored)}`);
      assert.deepEqual(stored.options, grouped(file.options));
      assert.equal(stored.hash(), file.hash());
      assert.equal(stored.serialize(), file.serialize());
      // Engine (requirements, limits, what hosts must judge) and agent (metadata, conditions).
      const requirements = parseRequirements(stored, name).requirements;
      assert.deepEqual(requirements, validated.requirements);
      assert.equal(unitLimitProblem(stored, requirements), undefined);
      assert.equal(needsHostJudgement(stored), needsHostJudgement(file));
      assert.equal(verdictDependsOnName(stored), verdictDependsOnName(file));
      assert.deepEqual(parseConditions(stored), parseConditions(file));
    }),
    { numRuns: 3000 },
  );
  // The property says something only if many generated files are accepted.
  assert.ok(accepted > runs / 4, `only ${accepted} of ${runs} generated files accepted`);
});

test('the generator often writes a value ending in "\\ " (the case that used to disagree)', () => {
  const seen = fc.sample(unitText, { numRuns: 3000, seed: 42 }).filter((t) => /\\[ \t]\r?\n/.test(t));
  assert.ok(seen.length > 100, `only ${seen.length} files with a value ending in "\\ "`);
});
