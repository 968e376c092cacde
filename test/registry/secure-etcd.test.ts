/**
 * The store client against a real etcd 3.4 that requires TLS client
 * certificates and a password (simple tokens, etcd's default), through the
 * events that invalidate tokens: a member restart (a restarted member
 * forgets the tokens it knew), a leader change, and a change to users or
 * roles (every token becomes "old").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { waitFor } from '../../src/util/deadline.js';
import { leaderIndex, startSecureEtcd, type SecureEtcd } from '../support/secure-etcd.js';

let s: SecureEtcd;
let admin: Etcd3;

before(async () => {
  s = await startSecureEtcd({ members: 3 });
  admin = s.connect({ username: s.root.name, password: s.root.password });
});

after(async () => {
  admin?.close();
  await s?.stop();
});

/** Every value put under `prefix` that a watch of `client` reported. */
async function collect(client: Etcd3, prefix: string): Promise<{ seen: string[]; cancel: () => Promise<void> }> {
  const seen: string[] = [];
  const w = await client.watch().prefix(prefix).create();
  w.on('put', (kv) => seen.push(kv.value.toString()));
  return { seen, cancel: () => w.cancel() };
}

async function seenWithin(what: string, seen: string[], value: string): Promise<void> {
  await waitFor(what, () => (seen.includes(value) ? true : undefined), { timeoutMs: 15_000 });
}

/** A write that must succeed within the deadline (each attempt bounded by the client's request timeout). */
async function putSoon(client: Etcd3, key: string, value: string): Promise<void> {
  await waitFor(`put ${key}`, async () => {
    await client.put(key).value(value);
    return true;
  }, { timeoutMs: 15_000, intervalMs: 200 });
}

async function memberLog(i: number): Promise<string> {
  return readFile(join(s.dir, 'etcd', `s${i}.log`), 'utf8');
}

test('with the right material: reads, writes, watches and leases work, verified against the CA', async () => {
  const client = s.connect();
  try {
    const w = await collect(client, `${s.prefix}w/`);
    await client.put(`${s.prefix}w/a`).value('1');
    assert.equal(await client.get(`${s.prefix}w/a`).string(), '1');
    await seenWithin('the watch event', w.seen, '1');
    const lease = await client.leaseClient.leaseGrant({ TTL: 5 });
    await client.put(`${s.prefix}l`).value('x').lease(String(lease.ID));
    await w.cancel();
  } finally {
    client.close();
  }
});

// The hard case: a client that knows only the member that restarts. Before
// auth-recovery.ts the watches stayed silent for good, and unary calls hung
// behind the circuit breaker's half-open probe.
test('a member restart: a client of that member only re-authenticates; its watches and calls go on', async () => {
  const only0 = s.connect({}, [s.endpoints[0] as string]);
  try {
    const a = await collect(only0, `${s.prefix}ra/`);
    const b = await collect(only0, `${s.prefix}rb/`);
    // A write after authenticating, then a forced backend commit (Hash does one): the member
    // then restarts past the entry that made the token, and so forgets the token.
    await only0.put(`${s.prefix}x`).value('0');
    await forceCommit(0);
    const invalidBefore = (await memberLog(0)).split('invalid auth token').length;
    await s.etcd.restartMember(0);
    await putSoon(admin, `${s.prefix}ra/k`, 'after-restart-a');
    await putSoon(admin, `${s.prefix}rb/k`, 'after-restart-b');
    await seenWithin('watch a after the restart', a.seen, 'after-restart-a');
    await seenWithin('watch b after the restart', b.seen, 'after-restart-b');
    await putSoon(only0, `${s.prefix}x`, 'unary after restart');
    assert.equal(await only0.get(`${s.prefix}x`).string(), 'unary after restart');
    // The case really arose: the restarted member refused the old token.
    assert.ok((await memberLog(0)).split('invalid auth token').length > invalidBefore, 'the restarted member never refused a token: the test did not exercise the case');
    await a.cancel();
    await b.cancel();
  } finally {
    only0.close();
  }
});

// etcd3 retries a call refused for its token from inside the call; when that call was the
// member's half-open circuit-breaker probe, the retry waited for the probe: a hang, forever.
test('a member restart while calls fail: the first call after it re-authenticates instead of hanging', async () => {
  const only0 = s.connect({}, [s.endpoints[0] as string]);
  try {
    await only0.put(`${s.prefix}y`).value('0');
    await forceCommit(0);
    await s.etcd.killMember(0);
    // Calls fail while the member is down, which opens its circuit breaker.
    for (let i = 0; i < 3; i++) await assert.rejects(bounded(only0.get(`${s.prefix}y`).string()));
    await s.etcd.restartMember(0);
    const value = await waitFor('a read after the restart', async () => (await bounded(only0.get(`${s.prefix}y`).string())) ?? undefined, { timeoutMs: 15_000, intervalMs: 200 });
    assert.equal(value, '0');
  } finally {
    only0.close();
  }
});

test('a leader change: the leader is killed and comes back; watches and writes go on', async () => {
  const client = s.connect();
  try {
    const w = await collect(client, `${s.prefix}lc/`);
    await client.put(`${s.prefix}lc/k`).value('before');
    await seenWithin('the event before', w.seen, 'before');
    const leader = await leaderIndex(s.store());
    await s.etcd.killMember(leader);
    await putSoon(client, `${s.prefix}lc/k`, 'leaderless');
    await seenWithin('the event while the old leader is down', w.seen, 'leaderless');
    await s.etcd.restartMember(leader);
    const now = await leaderIndex(s.store());
    await putSoon(client, `${s.prefix}lc/k`, 'after');
    await seenWithin('the event after', w.seen, 'after');
    console.log(`# leader was s${leader}, now s${now}`);
    await w.cancel();
  } finally {
    client.close();
  }
});

// With signed (JWT) tokens etcd answers "revision of auth store is old" to a
// token older than the last user or role change; etcd3 did not retry that, so
// every call failed from then on. (Simple tokens always carry the current revision.)
test('a change to users or roles: existing clients keep working (JWT tokens)', async () => {
  const j = await startSecureEtcd({ members: 1, jwt: true });
  const client = j.connect();
  const root = j.connect({ username: j.root.name, password: j.root.password });
  try {
    await client.put(`${j.prefix}rev`).value('1');
    await root.user('other').create('some password');
    await client.put(`${j.prefix}rev`).value('2');
    assert.equal(await client.get(`${j.prefix}rev`).string(), '2');
  } finally {
    client.close();
    root.close();
    await j.stop();
  }
});

/** Member i commits its backend now (Hash does), so a restart does not replay what came before. */
async function forceCommit(i: number): Promise<void> {
  const root = s.connect({ username: s.root.name, password: s.root.password }, [s.endpoints[i] as string]);
  await root.maintenance.hash().finally(() => root.close());
}

/** A call that hangs is a failure of its own kind: reject it after 5 s. */
async function bounded<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the call hung for 5 s')), 5_000);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}
