import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, json } from '../../src/api/router.js';

const h = json(async () => ({ status: 200 }));
const router = new Router()
  .add('/fleet/v1/units', { GET: h }, 'only GET supported against this resource')
  .add('/fleet/v1/units/:name', { GET: h, PUT: h, DELETE: h })
  .add('/fleet/v1/units/:name/file', { GET: h });

test('exact paths and one-segment parameters, percent-decoded', () => {
  const m = router.match('GET', '/fleet/v1/units/web%40a.service');
  assert.ok(m.ok);
  assert.deepEqual(m.params, { name: 'web@a.service' });
  const f = router.match('GET', '/fleet/v1/units/a.service/file');
  assert.ok(f.ok && f.params.name === 'a.service');
});

test('unknown paths, trailing slashes and empty segments are 404', () => {
  for (const p of ['/', '/fleet/v1', '/fleet/v1/units/', '/fleet/v1/unitsx', '/fleet/v1/units/a/b', '/fleet/v1/units//file']) {
    const m = router.match('GET', p);
    assert.ok(!m.ok, p);
    assert.equal(m.error.status, 404, p);
  }
});

test('a wrong method is 405 naming the allowed ones, also in Allow', () => {
  const m = router.match('POST', '/fleet/v1/units/a.service');
  assert.ok(!m.ok);
  assert.equal(m.error.status, 405);
  assert.equal(m.error.message, 'only GET, PUT, DELETE supported against this resource');
  assert.deepEqual(m.error.headers, { Allow: 'GET, PUT, DELETE' });
  const worded = router.match('DELETE', '/fleet/v1/units');
  assert.ok(!worded.ok && worded.error.message === 'only GET supported against this resource' && worded.error.headers.Allow === 'GET');
  const odd = router.match('BREW', '/fleet/v1/units');
  assert.ok(!odd.ok && odd.error.status === 405);
});

test('a bad percent-escape is 400, a route declared twice is a bug', () => {
  const m = router.match('GET', '/fleet/v1/units/%E0%A4%A');
  assert.ok(!m.ok && m.error.status === 400);
  assert.throws(() => new Router().add('/a/:x', { GET: h }).add('/a/:y', { GET: h }), /declared twice/);
});
