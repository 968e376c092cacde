import test from 'node:test';
import assert from 'node:assert/strict';
import { leadingCandidate } from '../../src/engine/leader-rule.js';

test('the candidate with the lowest create revision leads, wherever it is listed', () => {
  const cands = [{ id: 'b', createRevision: 9 }, { id: 'a', createRevision: 4 }, { id: 'c', createRevision: 12 }];
  assert.equal(leadingCandidate(cands)?.id, 'a');
  assert.equal(leadingCandidate([...cands].reverse())?.id, 'a');
  assert.equal(leadingCandidate([]), undefined);
});
