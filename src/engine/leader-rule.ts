/**
 * The election rule, in one place: of the candidate keys (one per flotillad,
 * each on its lease), the one with the lowest create revision leads. The
 * engine's Election, the dev cluster and the tests that ask "who leads?" all
 * use it, so they can never disagree on the answer.
 */
export interface Candidate {
  createRevision: number;
}

/** The leading candidate, or undefined when there is none. */
export function leadingCandidate<C extends Candidate>(candidates: Iterable<C>): C | undefined {
  let lowest: C | undefined;
  for (const c of candidates) if (lowest === undefined || c.createRevision < lowest.createRevision) lowest = c;
  return lowest;
}
