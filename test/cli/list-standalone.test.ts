/**
 * When the CommonJS entry (main-cjs.ts) runs a list request itself: only when
 * nothing would be loaded on demand (its bundle has none of it), else the
 * ESM bundle runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { standaloneList } from '../../src/cli/list-fast.js';

const pipe = { write: (): boolean => true, isTTY: false };
const tty = { write: (): boolean => true, isTTY: true };
const pipes = { stdout: pipe, stderr: pipe };

describe('standaloneList', () => {
  it('takes the API driver to a pipe, with the globals resolved once', () => {
    const r = standaloneList(['--endpoint', 'unix:///tmp/x.sock', 'list-units', '-l'], {}, pipes);
    assert.equal(r?.req.command, 'list-units');
    assert.equal(r?.req.list.full, true);
    assert.deepEqual([r?.globals.driver, r?.globals.endpoint], ['api', 'unix:///tmp/x.sock']);
    assert.ok(standaloneList(['list-machines'], { FLOTCTL_DRIVER: 'api' }, pipes));
  });

  it('a terminal only with NO_COLOR (no chalk)', () => {
    assert.equal(standaloneList(['list-units'], {}, { stdout: tty, stderr: pipe }), undefined);
    assert.equal(standaloneList(['list-units'], {}, { stdout: pipe, stderr: tty }), undefined);
    assert.equal(standaloneList(['list-units'], { NO_COLOR: '' }, { stdout: tty, stderr: tty }), undefined);
    assert.ok(standaloneList(['list-units'], { NO_COLOR: '1' }, { stdout: tty, stderr: tty }));
  });

  it('leaves the etcd driver, --tunnel, invalid globals and other commands to the ESM bundle', () => {
    assert.equal(standaloneList(['--driver', 'etcd', 'list-units'], {}, pipes), undefined);
    assert.equal(standaloneList(['list-units'], { FLOTCTL_DRIVER: 'etcd' }, pipes), undefined);
    assert.equal(standaloneList(['--tunnel', 'bastion', 'list-units'], {}, pipes), undefined);
    assert.equal(standaloneList(['list-units'], { FLOTCTL_TUNNEL: 'bastion:2222' }, pipes), undefined);
    assert.equal(standaloneList(['--driver', 'nope', 'list-units'], {}, pipes), undefined);
    assert.equal(standaloneList(['--request-timeout', '0', 'list-units'], {}, pipes), undefined);
    assert.equal(standaloneList(['list-unit-files'], {}, pipes), undefined);
  });
});
