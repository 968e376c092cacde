/** The sync progress display: a live block on a terminal, plain lines elsewhere. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Output, type OutputStream } from '../../src/cli/output.js';
import { SyncProgress, progressLines } from '../../src/cli/sync-progress.js';

function stream(tty: boolean): OutputStream & { text: string } {
  const s = {
    text: '',
    isTTY: tty,
    columns: 80,
    rows: 24,
    write(chunk: string, cb?: (err?: Error | null) => void): boolean {
      s.text += chunk;
      cb?.();
      return true;
    },
    on: () => s,
    once: () => s,
    off: () => s,
    removeListener: () => s,
  };
  return s;
}

describe('sync progress', () => {
  it('the live block: counts, then one line per unit in flight, bounded', () => {
    const inFlight = new Map(Array.from({ length: 25 }, (_, i) => [`u${i}.service`, 'activating']));
    const lines = progressLines({ total: 30, done: 4, failed: 1, inFlight });
    assert.equal(lines[0], 'Rolling out 30 units: 4 done, 1 failed, 25 left');
    assert.equal(lines[1], '  u0.service: activating');
    assert.equal(lines.length, 22);
    assert.equal(lines.at(-1), '  ... and 5 more');
  });

  it('not a terminal: one plain line per finished unit, no escape codes', async () => {
    const out = stream(false);
    const output = new Output({ stdout: out, stderr: stream(false), env: {} });
    const p = await SyncProgress.open(output, ['a.service', 'b.service']);
    p.event({ unit: 'a.service', phase: 'waiting', detail: 'activating' });
    p.event({ unit: 'a.service', phase: 'healthy', detail: 'loaded/active/running on m1' });
    p.event({ unit: 'b.service', phase: 'failed', detail: 'not healthy within 5m0s' });
    p.close();
    assert.equal(out.text, 'Unit a.service healthy: loaded/active/running on m1\nUnit b.service failed: not healthy within 5m0s\n');
  });

  it('a terminal: the block is redrawn in place and finished units stay above it', async () => {
    const out = stream(true);
    const output = new Output({ stdout: out, stderr: stream(false), env: {} });
    const p = await SyncProgress.open(output, ['a.service', 'b.service']);
    p.event({ unit: 'a.service', phase: 'waiting', detail: 'activating on m1' });
    assert.match(out.text, /Rolling out 2 units: 0 done, 2 left/);
    assert.match(out.text, /a\.service: activating on m1/);
    p.event({ unit: 'a.service', phase: 'healthy', detail: 'active on m1' });
    p.close();
    assert.match(out.text, /\x1b\[/, 'cursor movement');
    assert.match(out.text, /Unit a\.service healthy: active on m1\n/);
    assert.match(out.text, /1 done, 1 left/);
  });

  it('units queued in a rolling replace count as left and show when their turn comes', async () => {
    const out = stream(true);
    const output = new Output({ stdout: out, stderr: stream(false), env: {} });
    const p = await SyncProgress.open(output, ['new.service'], ['a.service', 'b.service']);
    assert.match(out.text, /Rolling out 3 units: 0 done, 3 left/);
    assert.doesNotMatch(out.text, /a\.service/);
    p.event({ unit: 'a.service', phase: 'waiting', detail: 'replaced; waiting for it to be healthy on its hosts' });
    assert.match(out.text, /  a\.service: replaced; waiting/);
    assert.doesNotMatch(out.text, /b\.service/);
    p.event({ unit: 'a.service', phase: 'healthy', detail: 'healthy' });
    p.event({ unit: 'b.service', phase: 'waiting', detail: 'replaced' });
    assert.match(out.text, /Rolling out 3 units: 1 done, 2 left/);
    assert.match(out.text, /  b\.service: replaced/);
    p.close();
  });
});
