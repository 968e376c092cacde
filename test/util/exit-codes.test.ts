import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreUnreachableError } from '../../src/client/store-errors.js';
import { WaitTimeoutError } from '../../src/client/operations/waiter.js';
import { DeprecatedFeatureError, ExitCode, FlotillaError, InvalidInputError, SshError, StoreRefusedError, StoreUnavailableError, UsageError } from '../../src/util/errors.js';
import { exitCodeOf } from '../../src/util/exit-codes.js';

test('exit codes come from the error class, at the edge', () => {
  const cases: Array<[unknown, ExitCode]> = [
    [new UsageError('x'), ExitCode.usage],
    [new DeprecatedFeatureError('x'), ExitCode.usage],
    [new SshError('x'), ExitCode.remote],
    [new StoreUnavailableError('x'), ExitCode.unavailable],
    [new StoreUnreachableError(['http://127.0.0.1:1'], 'refused'), ExitCode.unavailable],
    // A refusal is a setting to fix: 1, though it is a store error.
    [new StoreRefusedError('x'), ExitCode.failure],
    [new InvalidInputError('x'), ExitCode.failure],
    [new WaitTimeoutError('x'), ExitCode.failure],
    [new FlotillaError('x'), ExitCode.failure],
    [new TypeError('a bug'), ExitCode.failure],
    ['not even an error', ExitCode.failure],
  ];
  for (const [err, code] of cases) assert.equal(exitCodeOf(err), code, `${(err as Error).name ?? err}`);
});
