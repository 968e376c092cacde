/** The API watch's pure parts: reading stream lines defensively, and the stream's path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventsPath, readStreamLine } from '../../src/client/api-events.js';

test('stream lines: start, events (units named in payloads), resync, error, and anything else says nothing', () => {
  assert.deepEqual(readStreamLine('{"Index":7}'), { kind: 'start', index: 7, units: [] });
  assert.deepEqual(
    readStreamLine(JSON.stringify({ Index: 9, Events: [{ Type: 'UnitPlaced', Payload: { Unit: 'a.service', Machine: 'm' } }, { Type: 'MachineLeft', Payload: { Machine: 'm' } }, null, { Payload: { Unit: 3 } }] })),
    { kind: 'events', index: 9, units: ['a.service'] },
  );
  assert.deepEqual(readStreamLine('{"Resync":{"Index":40,"Message":"compacted"}}'), { kind: 'resync', index: 40 });
  assert.deepEqual(readStreamLine('{"Resync":{}}'), { kind: 'resync', index: 0 });
  assert.deepEqual(readStreamLine('{"Error":{"Message":"x"}}'), { kind: 'error' });
  for (const other of ['{}', 'null', '[]', '"x"', '{"Index":"7"}', 'not json', '{"Index":']) assert.deepEqual(readStreamLine(other), { kind: 'other' }, other);
});

test('stream path: from now or after an index; one plain unit is filtered by flotillad, globs and several units here', () => {
  assert.equal(eventsPath(0, new Set(['a.service', 'b.service'])), '/flotilla/v1/events');
  assert.equal(eventsPath(12, new Set(['a.service'])), '/flotilla/v1/events?index=12&unit=a.service');
  assert.equal(eventsPath(0, new Set(['x@1.service'])), '/flotilla/v1/events?unit=x%401.service');
  assert.equal(eventsPath(5, new Set(['we*rd.service'])), '/flotilla/v1/events?index=5');
});
