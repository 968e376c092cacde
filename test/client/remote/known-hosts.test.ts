import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  addKnownHost,
  checkHostKey,
  entryMatches,
  fingerprint,
  hostPattern,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
} from '../../../src/client/remote/known-hosts.js';

/** An SSH public key blob: string "ssh-ed25519", then 32 key bytes as a string. */
function blob(seed: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, seed);
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(key.length), key]);
}

const A = blob(1);
const B = blob(2);

function hashed(host: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(host).digest('base64')}`;
}

describe('known_hosts', () => {
  it('writes [host]:port for ports other than 22, as OpenSSH does', () => {
    assert.equal(hostPattern('10.0.0.1', 22), '10.0.0.1');
    assert.equal(hostPattern('10.0.0.1', 2222), '[10.0.0.1]:2222');
  });

  it('matches plain lists, wildcards and negations', () => {
    assert.ok(entryMatches('a.example,10.0.0.1', '10.0.0.1'));
    assert.ok(!entryMatches('10.0.0.1', '10.0.0.10'));
    assert.ok(entryMatches('10.0.0.*', '10.0.0.10'));
    assert.ok(!entryMatches('10.0.0.*,!10.0.0.10', '10.0.0.10'));
    assert.ok(entryMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222'));
    assert.ok(!entryMatches('10.0.0.1', '[10.0.0.1]:2222'), 'a port-22 entry does not vouch for another port');
  });

  it('matches hashed host names (fleet ignored them)', () => {
    assert.ok(entryMatches(hashed('[10.0.0.1]:2222'), '[10.0.0.1]:2222'));
    assert.ok(!entryMatches(hashed('10.0.0.1'), '10.0.0.2'));
  });

  it('tells known, unknown and changed keys apart, naming the line of a changed one', () => {
    const entries = parseKnownHosts(
      `# comment\n\n@cert-authority * ssh-ed25519 ${B.toString('base64')}\nother ssh-ed25519 ${B.toString('base64')}\n10.0.0.1 ssh-ed25519 ${A.toString('base64')}\n`,
    );
    assert.equal(entries.length, 2, 'comments, blank and @cert-authority lines are skipped');
    assert.deepEqual(checkHostKey(entries, '10.0.0.1', A), { kind: 'known' });
    assert.deepEqual(checkHostKey(entries, '10.0.0.2', A), { kind: 'unknown' });
    assert.deepEqual(checkHostKey(entries, '10.0.0.1', B), { kind: 'changed', line: 5 });
  });

  it('a key of a type not listed for a host that has a known key is a changed key, not a new one (as OpenSSH); knownKeyTypes lists the types held', () => {
    const ecdsa = Buffer.concat([Buffer.from([0, 0, 0, 19]), Buffer.from('ecdsa-sha2-nistp256'), Buffer.alloc(8, 7)]);
    const entries = parseKnownHosts(`# c\nh ecdsa-sha2-nistp256 ${ecdsa.toString('base64')}\n`);
    assert.deepEqual(checkHostKey(entries, 'h', A), { kind: 'changed', line: 2, knownType: 'ecdsa-sha2-nistp256' });
    assert.deepEqual(checkHostKey(entries, 'h', ecdsa), { kind: 'known' });
    assert.deepEqual(checkHostKey(entries, 'other', A), { kind: 'unknown' }, 'a host with no known key is still just unknown');
    assert.deepEqual(knownKeyTypes(entries, 'h'), ['ecdsa-sha2-nistp256']);
    assert.deepEqual(knownKeyTypes(entries, 'other'), []);
  });

  it('a revoked key of another type does not count as a known key of the host', () => {
    const entries = parseKnownHosts(`@revoked h ssh-rsa ${B.toString('base64')}\n`);
    assert.deepEqual(checkHostKey(entries, 'h', A), { kind: 'unknown' });
  });

  it('a @revoked key is refused even where another line lists it', () => {
    const entries = parseKnownHosts(`h ssh-ed25519 ${A.toString('base64')}\n@revoked * ssh-ed25519 ${A.toString('base64')}\n`);
    assert.deepEqual(checkHostKey(entries, 'h', A), { kind: 'revoked', line: 2 });
  });

  it('a host listed with several keys is known by any of them', () => {
    const entries = parseKnownHosts(`h ssh-ed25519 ${B.toString('base64')}\nh ssh-ed25519 ${A.toString('base64')}\n`);
    assert.deepEqual(checkHostKey(entries, 'h', A), { kind: 'known' });
  });

  it('fingerprints like OpenSSH and reads the key type from the blob', () => {
    assert.match(fingerprint(A), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(keyTypeOf(A), 'ssh-ed25519');
  });

  it('adds an accepted host to a file that did not exist, and reads it back as known', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'fl-kh-')), 'sub', 'known_hosts');
    assert.deepEqual(await readKnownHosts(path), []);
    await addKnownHost(path, '[10.0.0.1]:2222', A);
    assert.match(await readFile(path, 'utf8'), /^\[10\.0\.0\.1\]:2222 ssh-ed25519 \S+\n$/);
    assert.deepEqual(checkHostKey(await readKnownHosts(path), '[10.0.0.1]:2222', A), { kind: 'known' });
  });

  it('appending to a file whose last line has no newline keeps both entries', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'fl-kh-')), 'known_hosts');
    await writeFile(path, `a ssh-ed25519 ${B.toString('base64')}`);
    await addKnownHost(path, 'b', A);
    const entries = await readKnownHosts(path);
    assert.deepEqual(entries.map((e) => e.hosts), ['a', 'b']);
  });
});
