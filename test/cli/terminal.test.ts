/** The interactive side of flotctl: the host-key question. */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Terminal } from '../../src/cli/terminal.js';

function tty<T extends object>(stream: T): T & { isTTY: true } {
  return Object.assign(stream, { isTTY: true as const });
}

describe('Terminal', () => {
  it("asks OpenSSH's question with the host (a machine IP from the store) escaped, and reads yes", async () => {
    const stdin = tty(new PassThrough());
    let asked = '';
    const stderr = tty(new Writable({ write: (chunk: Buffer, _enc, cb) => { asked += chunk.toString(); cb(); } }));
    const terminal = new Terminal(stdin as never, process.stdout, stderr as never);
    const confirm = terminal.hostConfirmer();
    assert.ok(confirm);
    const answer = confirm('[10.0.0.1\u001b]0;x\u0007]:22', 'ssh-ed25519', 'SHA256:abc');
    stdin.write('yes\n');
    assert.equal(await answer, true);
    assert.match(asked, /The authenticity of host '\[10\.0\.0\.1\\x1b\]0;x\\x07\]:22' can't be established\./);
    assert.doesNotMatch(asked, /\u0007/);
  });

  it('off a terminal there is no question (the caller refuses)', () => {
    assert.equal(new Terminal(new PassThrough() as never, process.stdout, new PassThrough() as never).hostConfirmer(), undefined);
  });
});
