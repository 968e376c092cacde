/** Go's duration syntax. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DURATION_MAX_MS, formatDuration, parseDuration } from '../../src/util/duration.js';

describe('durations', () => {
  const good: Array<[string, number]> = [['0', 0], ['10s', 10_000], ['5m', 300_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['300ms', 300], ['.5s', 500], ['2h45m3.5s', 9_903_500], ['+10s', 10_000], ['1000us', 1], ['1µs', 0.001]];
  for (const [text, ms] of good) it(`${text} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  const bad: Array<[string, RegExp]> = [['', /empty/], ['10', /needs a unit/], ['-5s', /negative/], ['5d', /unknown unit "d"/], ['s', /unexpected/], ['1h 2m', /unexpected " 2m"/], ['999h', /longer than the maximum/], ['x'.repeat(100), /too long/]];
  for (const [text, pattern] of bad) it(`refuses ${JSON.stringify(text.slice(0, 10))}`, () => assert.throws(() => parseDuration(text, '--interval'), (e: Error) => pattern.test(e.message) && /--interval/.test(e.message) && !e.message.includes('\n')));
  it('formats like Go', () => {
    assert.deepEqual([0, 250, 1500, 10_000, 90_000, 5_400_000].map(formatDuration), ['0s', '250ms', '1.5s', '10s', '1m30s', '1h30m0s']);
    assert.ok(parseDuration(formatDuration(DURATION_MAX_MS)) <= DURATION_MAX_MS);
  });
});
