import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventPredicate, globMatch } from '../../src/events/filter.js';
import { parseEventsQuery } from '../../src/events/stream.js';
import type { FlotillaEvent } from '../../src/events/derive.js';

const A = 'a1'.repeat(16);
const ev = (unit: string | undefined, machine?: string, from?: string): FlotillaEvent => ({ index: 1, topic: 'Unit', type: 'UnitPlaced', ...(unit ? { unit } : {}), ...(machine ? { machine } : {}), ...(from ? { from } : {}) });

test('glob: * and ? as in fleet, dots literal', () => {
  assert.ok(globMatch('web@*.service', 'web@1.service'));
  assert.ok(globMatch('*', 'x.service'));
  assert.ok(globMatch('a?c.service', 'abc.service'));
  assert.ok(!globMatch('a?c.service', 'ac.service'));
  assert.ok(!globMatch('web.service', 'webXservice'));
  assert.ok(globMatch('*.timer', 'backup.timer'));
});

test('glob: a pattern of many stars against a long name stays cheap', () => {
  const t0 = performance.now();
  assert.ok(!globMatch('*a'.repeat(120) + 'b', 'a'.repeat(255)));
  assert.ok(performance.now() - t0 < 50);
});

test('filter: unit glob and machine id prefix; a move matches its origin machine too', () => {
  const p = eventPredicate({ unit: 'web*', machine: 'a1a1' });
  assert.ok(p(ev('web.service', A)));
  assert.ok(!p(ev('db.service', A)));
  assert.ok(!p(ev('web.service', 'f'.repeat(32))));
  assert.ok(p(ev('web.service', 'f'.repeat(32), A)));
  assert.ok(!p({ index: 1, topic: 'Machine', type: 'MachineJoined', machine: A }), 'a unit filter excludes events without a unit');
  assert.ok(eventPredicate({})({ index: 1, topic: 'Engine', type: 'EngineElected', machine: A }));
});

test('filter and query: bad input is one line naming it', () => {
  const oneLine = (re: RegExp) => (err: Error) => re.test(err.message) && !err.message.includes('\n');
  assert.throws(() => eventPredicate({ unit: 'web/../x' }), oneLine(/unit filter "web\/\.\.\/x"/));
  assert.throws(() => eventPredicate({ machine: 'XYZ' }), oneLine(/machine filter "XYZ"/));
  assert.throws(() => parseEventsQuery(new URLSearchParams('index=-1')), oneLine(/index "-1"/));
  assert.throws(() => parseEventsQuery(new URLSearchParams('index=1e9')), oneLine(/index "1e9"/));
  assert.throws(() => parseEventsQuery(new URLSearchParams('topic=Unit')), oneLine(/unknown parameter "topic"/));
  assert.throws(() => parseEventsQuery(new URLSearchParams('index=1&index=2')), oneLine(/given twice/));
  assert.deepEqual(parseEventsQuery(new URLSearchParams('index=42&unit=web*')), { afterIndex: 42, filter: { unit: 'web*' } });
});
