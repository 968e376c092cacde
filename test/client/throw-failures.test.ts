/** How a blocking command's concurrent waits fail together (src/client/operations/waits.ts throwFailures). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throwFailures } from '../../src/client/operations/waits.js';
import { WaitTimeoutError } from '../../src/client/operations/waiter.js';
import { FlotillaError, StoreUnavailableError } from '../../src/util/errors.js';

const rejected = (reason: unknown): PromiseSettledResult<unknown> => ({ status: 'rejected', reason });
const ok: PromiseSettledResult<unknown> = { status: 'fulfilled', value: undefined };

test('timeouts alone stay one WaitTimeoutError (sync waits out destroyed units on it); any other failure makes it a plain one; an outage wins', () => {
  assert.doesNotThrow(() => throwFailures([ok, ok]));
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a timed out')), ok, rejected(new WaitTimeoutError('b timed out'))]), (e: unknown) => e instanceof WaitTimeoutError && e.message === 'a timed out; b timed out');
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a timed out')), rejected(new FlotillaError('b failed'))]), (e: unknown) => e instanceof FlotillaError && !(e instanceof WaitTimeoutError) && e.message === 'a timed out; b failed');
  assert.throws(() => throwFailures([rejected(new WaitTimeoutError('a')), rejected(new StoreUnavailableError('down'))]), StoreUnavailableError);
});
