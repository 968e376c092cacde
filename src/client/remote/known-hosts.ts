/**
 * OpenSSH known_hosts, as far as flotctl needs it to decide whether a host
 * key is trusted: plain and hashed (`|1|salt|hash`) host lists, `[host]:port`
 * for ports other than 22, `*`/`?` wildcards and `!` negation. `@revoked`
 * keys are refused; `@cert-authority` lines are skipped (no certificates here).
 * fleet ignored hashed entries; OpenSSH writes them by default on many systems.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  /** 1-based, for messages that tell the user which line to remove. */
  line: number;
  hosts: string;
  keyType: string;
  key: Buffer;
  revoked: boolean;
}

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  /**
   * The host is listed, but not with this key: possibly a man in the middle.
   * `knownType` is set when the listed keys are all of other types than the
   * offered one (OpenSSH refuses those too, rather than asking to trust the new key).
   */
  | { kind: 'changed'; line: number; knownType?: string }
  | { kind: 'revoked'; line: number };

/** How the host appears in known_hosts: `[addr]:port` unless the port is 22. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    if (marker !== undefined && marker !== '@revoked') return;
    const [hosts, keyType, blob] = fields;
    if (!hosts || !keyType || !blob) return;
    const key = Buffer.from(blob, 'base64');
    if (key.length === 0) return;
    entries.push({ line: i + 1, hosts, keyType, key, revoked: marker === '@revoked' });
  });
  return entries;
}

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatch(item: string, host: string): boolean {
  const [, magic, salt, hash] = item.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(host).digest('base64') === hash;
}

/** One entry's host list against `host` (as hostPattern renders it); a matching `!pattern` excludes. */
export function entryMatches(hosts: string, host: string): boolean {
  if (hosts.startsWith('|')) return hashedMatch(hosts, host);
  let matched = false;
  for (const item of hosts.split(',')) {
    const negated = item.startsWith('!');
    const pattern = negated ? item.slice(1) : item;
    if (!wildcard(pattern).test(host)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

export function checkHostKey(entries: readonly KnownHostEntry[], host: string, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.revoked && e.key.equals(key));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const listed = entries.filter((e) => !e.revoked && entryMatches(e.hosts, host));
  if (listed.some((e) => e.key.equals(key))) return { kind: 'known' };
  const sameType = listed.find((e) => e.keyType === keyTypeOf(key));
  if (sameType) return { kind: 'changed', line: sameType.line };
  // ssh.ts asks for the known key types first, so a host that offers another type
  // cannot (or will not) show the key we know: a reinstall, or someone else.
  const other = listed[0];
  return other ? { kind: 'changed', line: other.line, knownType: other.keyType } : { kind: 'unknown' };
}

/** Key types known_hosts holds for `host`, in file order. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string): string[] {
  return [...new Set(entries.filter((e) => !e.revoked && entryMatches(e.hosts, host)).map((e) => e.keyType))];
}

/** The algorithm name stored at the start of an SSH public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1') || 'unknown';
}

/** OpenSSH's `SHA256:…` fingerprint. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export async function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function addKnownHost(path: string, host: string, key: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // A file whose last line has no newline would otherwise swallow the new entry.
  const existing = await readFile(path, 'utf8').catch(() => '');
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(path, `${sep}${host} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o644 });
}
