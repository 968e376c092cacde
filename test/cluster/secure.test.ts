/**
 * A cluster on a secured etcd (`flotillad dev --secure`: 3 members, TLS
 * client certificates, password auth with simple tokens): flotillad and
 * flotctl work through it, and keep working through an etcd member restart
 * and a leader change, which is when etcd forgets or refuses the tokens
 * clients hold. Agents keep their leases, new units still start, flotctl
 * still answers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { Keys } from '../../src/registry/keys.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl, rows } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';
import { leaderIndex } from '../support/secure-etcd.js';

const TTL = 5;
let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;
let n = 0;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-secure-'), hosts: 3, ttlSeconds: TTL, etcdMembers: 3, fastElection: true, secure: true });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-units-');
});

after(async () => {
  await cluster?.down();
});

/** machine id -> the lease its machine key is on. */
async function leases(): Promise<Map<string, string>> {
  const etcd = cluster.connect();
  try {
    const res = await etcd.getAll().prefix(new Keys(cluster.prefix).machinesPrefix).exec();
    return new Map(res.kvs.map((kv) => [kv.key.toString().split('/').pop() as string, String(kv.lease)]));
  } finally {
    etcd.close();
  }
}

/** A new unit, started with flotctl: it must end up active on exactly one host's systemd. */
async function startsNewUnit(): Promise<void> {
  const unit = `sec-${++n}.service`;
  await writeFile(join(work, unit), '[Service]\nExecStart=/bin/sleep infinity\n');
  const r = await flotctl(env, ['start', unit], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  await waitFor(`${unit} active on one host`, async () => ((await hostsRunning(cluster, unit)).length === 1 ? true : undefined), { timeoutMs: 20_000 });
}

async function flotctlWorks(): Promise<void> {
  const m = await flotctl(env, ['list-machines', '--no-legend']);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(rows(m.stdout).length, 3, m.stdout);
  const u = await flotctl(env, ['list-units', '--no-legend']);
  assert.equal(u.code, 0, u.stderr);
  assert.equal(rows(u.stdout).length, n, u.stdout);
}

async function refusedTokens(): Promise<number> {
  let count = 0;
  for (const m of cluster.etcd.members) count += (await readFile(join(cluster.dir, 'etcd', `${m.name}.log`), 'utf8').catch(() => '')).split('invalid auth token').length - 1;
  return count;
}

test('flotillad and flotctl work through TLS and password auth', async () => {
  assert.match(env.FLOTCTL_ENDPOINT ?? '', /^https:\/\//);
  assert.ok(env.FLOTCTL_CA_FILE && env.FLOTCTL_CERT_FILE && env.FLOTCTL_KEY_FILE && env.FLOTCTL_USERNAME && env.FLOTCTL_PASSWORD);
  // Without the password etcd lets nobody in: the cluster really is secured.
  const { FLOTCTL_PASSWORD: _, FLOTCTL_USERNAME: __, ...noAuth } = env;
  const refused = await flotctl(noAuth, ['list-machines']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^flotctl: etcd requires authentication: give --username and --password\n$/);
  await startsNewUnit();
  await flotctlWorks();
  for (const h of cluster.hosts) assert.ok(!(await readFile(h.logPath, 'utf8')).includes(env.FLOTCTL_PASSWORD as string), `${h.name}'s log holds the password`);
});

test('etcd member restarts: agents keep their leases, new units start, flotctl works', async () => {
  const before = await leases();
  assert.equal(before.size, 3);
  const refusedBefore = await refusedTokens();
  for (const k of [0, 1, 2]) {
    await cluster.restartEtcdMember(k);
    await startsNewUnit();
    await flotctlWorks();
  }
  assert.deepEqual(await leases(), before);
  console.log(`# etcd refused ${(await refusedTokens()) - refusedBefore} stale tokens during the restarts`);
});

test('a leader change: the leader is killed, the cluster works on the other two, and after it returns', async () => {
  const before = await leases();
  const leader = await leaderIndex(cluster.store());
  await cluster.killEtcdMember(leader);
  await startsNewUnit();
  await flotctlWorks();
  await cluster.restartEtcdMember(leader);
  const now = await leaderIndex(cluster.store());
  console.log(`# leader was s${leader}, is s${now}`);
  await startsNewUnit();
  await flotctlWorks();
  assert.deepEqual(await leases(), before);
});
