/**
 * The unified diff of a replaced unit: the stored unit file against the
 * tree's, both in their serialized form (what `flotctl cat` prints and what
 * the hash covers), so only changes that matter show. jsdiff (npm "diff")
 * does the Myers diff; maxEditLength bounds its cost on untrusted input.
 */
import { createTwoFilesPatch } from 'diff';

/** Edits beyond this are not worth showing line by line (and bound the diff's cost). */
const MAX_EDIT_LENGTH = 2000;

/** Unified diff lines (---/+++ headers, @@ hunks), or one line saying it is too large. */
export function unitDiff(name: string, before: string, after: string, labels: { before: string; after: string }): string[] {
  const patch = createTwoFilesPatch(`${name} (${labels.before})`, `${name} (${labels.after})`, withNewline(before), withNewline(after), undefined, undefined, {
    context: 3,
    maxEditLength: MAX_EDIT_LENGTH,
  });
  if (patch === undefined) return [`(${name}: more than ${MAX_EDIT_LENGTH} lines changed; diff not shown)`];
  // jsdiff starts with an "Index:"-less "===" separator line; keep from the "---" header on.
  const lines = patch.split('\n');
  const start = lines.findIndex((l) => l.startsWith('--- '));
  return lines.slice(start < 0 ? 0 : start).filter((l, i, all) => !(i === all.length - 1 && l === ''));
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
