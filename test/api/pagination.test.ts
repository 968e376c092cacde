import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeToken, encodeToken, pageRequest, paginate } from '../../src/api/pagination.js';
import { ApiError } from '../../src/api/errors.js';

test("fleet's token format: limit 100 page 2 is ZAACAA==", () => {
  assert.equal(encodeToken({ limit: 100, page: 2 }), 'ZAACAA==');
  assert.deepEqual(decodeToken('ZAACAA==', 100), { limit: 100, page: 2 });
  // URL-safe alphabet: 0xfbff has bits that need "-" and "_".
  const t = encodeToken({ limit: 0xffff, page: 0xfbff });
  assert.match(t, /^[A-Za-z0-9_-]{6}==$/);
  assert.deepEqual(decodeToken(t, 0xffff), { limit: 0xffff, page: 0xfbff });
});

function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && message.test(e.message));
}

test('bad tokens are 400 with fleet\'s messages', () => {
  refuses(() => decodeToken('EwBMLg==', 100), /^token limit must be 100/);
  refuses(() => decodeToken(encodeToken({ limit: 100, page: 0 }), 100), /^token page must be greater than zero$/);
  refuses(() => decodeToken('not a token', 100), /^invalid nextPageToken "not a token"/);
  refuses(() => pageRequest(new URLSearchParams('nextPageToken=ZAACAA==&nextPageToken=ZAACAA=='), 100), /^too many values for page token/);
  assert.deepEqual(pageRequest(new URLSearchParams(''), 100), { limit: 100, page: 1 });
});

test('pages: a token while items remain, none on the last page', () => {
  const items = Array.from({ length: 5 }, (_, i) => i);
  const p1 = paginate(items, { limit: 2, page: 1 });
  assert.deepEqual(p1, { items: [0, 1], nextPageToken: encodeToken({ limit: 2, page: 2 }) });
  const p3 = paginate(items, decodeToken(encodeToken({ limit: 2, page: 3 }), 2));
  assert.deepEqual(p3, { items: [4] });
  assert.deepEqual(paginate(items, { limit: 5, page: 1 }), { items });
  assert.deepEqual(paginate(items, { limit: 5, page: 9 }), { items: [] });
});
