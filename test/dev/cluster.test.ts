import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { LocalCluster, type ClusterHost } from '../../src/dev/cluster.js';
import { daemonEntry } from '../../src/dev/host-files.js';
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags.js';
import { isRunning } from '../../src/dev/procs.js';
import { waitFor } from '../../src/util/deadline.js';
import { existing, liveProcsMentioning } from './leftovers.js';

const dirs: string[] = [];
const clusters: LocalCluster[] = [];

async function tempDir(): Promise<string> {
  const d = await mkdtemp('/tmp/fl-');
  dirs.push(d);
  return d;
}

after(async () => {
  for (const c of clusters) await c.down().catch((err: unknown) => console.error(err));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function leftoverPaths(c: LocalCluster): string[] {
  return c.hosts.flatMap((h) => [...h.cgroupPaths, join(h.dir, 'run', 'bus'), join(h.runtimeDir, 'systemd', 'private')])
    .concat(c.etcd.members.map((m) => m.dataDir), join(c.dir, 'cluster.json'));
}

async function unitProps(c: LocalCluster, i: number): Promise<Record<string, string>> {
  const r = await c.systemctl(i, ['show', '-p', 'LoadState,FragmentPath,Restart', 'flotillad.service']);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('start brings up N hosts whose systemd has flotillad.service; down leaves nothing', async () => {
  const dir = await tempDir();
  const t = Date.now();
  const c = await LocalCluster.start({ dir, hosts: 3, waitForAgents: false, ttlSeconds: 5, extraConfig: { verbosity: '1' } });
  clusters.push(c);
  console.log(`# 3 hosts + etcd (no agent wait) in ${Date.now() - t} ms`);

  assert.equal(c.hosts.length, 3);
  assert.deepEqual(c.hosts.map((h) => h.name), ['host1', 'host2', 'host3']);
  assert.deepEqual(c.hosts.map((h) => h.publicIP), ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
  assert.equal(new Set(c.hosts.map((h) => h.machineId)).size, 3);
  assert.deepEqual(c.flotctlEnv(), {
    FLOTCTL_DRIVER: 'etcd',
    FLOTCTL_ENDPOINT: c.endpoints.join(','),
    FLOTCTL_ETCD_KEY_PREFIX: '/flotilla/',
    FLOTCTL_SSH_USERNAME: userInfo().username,
    FLOTCTL_SSH_IDENTITY: join(c.dir, 'ssh', 'id_ed25519'),
    FLOTCTL_KNOWN_HOSTS_FILE: join(c.dir, 'ssh', 'known_hosts'),
  });

  for (const h of c.hosts) {
    assert.match(h.machineId, /^[0-9a-f]{32}$/);
    assert.equal((await readFile(join(h.dir, 'machine-id'), 'utf8')).trim(), h.machineId);
    const conf = await readFile(h.configPath, 'utf8');
    assert.equal(conf, [
      `etcd_servers=${c.endpoints.join(',')}`,
      'etcd_key_prefix=/flotilla/',
      `machine_id=${h.machineId}`,
      `public_ip=${h.publicIP}`,
      `metadata=hostname=${h.name}`,
      'agent_ttl=5',
      `units_directory=${h.unitsDir}`,
      `systemd_bus_address=${h.busAddress}`,
      'log_format=text',
      'systemd_scope=user',
      `ssh_port=${h.sshPort}`,
      `api_socket=${join(h.dir, 'api.sock')}`,
      `git_cache_dir=${join(h.dir, 'git-cache')}`,
      'verbosity=1',
      '',
    ].join('\n'));
    await access(h.unitsDir);
    const props = await unitProps(c, h.index);
    assert.equal(props.LoadState, 'loaded');
    assert.equal(props.FragmentPath, join(h.configDir, 'systemd', 'user', 'flotillad.service'));
    assert.equal(props.Restart, 'on-failure');
    const unit = await readFile(props.FragmentPath as string, 'utf8');
    assert.ok(unit.includes(`ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${daemonEntry()} --config ${h.configPath}`), unit);
  }

  const attached = await LocalCluster.attach(dir);
  assert.deepEqual(attached.hosts.map((h) => h.machineId), c.hosts.map((h) => h.machineId));
  assert.deepEqual(attached.endpoints, c.endpoints);

  await assert.rejects(LocalCluster.start({ dir, hosts: 1, waitForAgents: false }), /already running/);

  const added: ClusterHost = await c.addHost();
  assert.equal(added.name, 'host4');
  assert.equal(added.index, 3);
  assert.equal((await unitProps(c, 3)).LoadState, 'loaded');
  assert.equal((await LocalCluster.attach(dir)).hosts.length, 4, 'addHost is recorded in cluster.json');

  // down() from the attached handle: what `flotillad dev --down` does from another process.
  const t2 = Date.now();
  await (await LocalCluster.attach(dir)).down();
  console.log(`# down in ${Date.now() - t2} ms`);
  assert.deepEqual(await liveProcsMentioning([dir, ...c.hosts.map((h) => h.cgroupPaths[0]?.split('/').pop() ?? dir)]), []);
  assert.deepEqual(await existing(leftoverPaths(c)), []);
  await c.down(); // idempotent
});

test('with the daemon: agents register; SIGKILL restarts flotillad, SIGTERM does not; killHost is power loss, restartHost power-on', async (t) => {
  if (!(await access(daemonEntry()).then(() => true, () => false))) {
    t.skip(`${daemonEntry()} not built`);
    return;
  }
  const dir = await tempDir();
  const t0 = Date.now();
  const c = await LocalCluster.start({ dir, hosts: 3, ttlSeconds: 5 });
  clusters.push(c);
  console.log(`# 3 hosts with registered agents in ${Date.now() - t0} ms`);

  const pid0 = await c.flotilladPid(0);
  assert.ok(pid0 > 0);
  process.kill(pid0, 'SIGKILL');
  const restarted = await waitFor('flotillad on host1 to be restarted', async () => {
    const p = await c.flotilladPid(0);
    return p > 0 && p !== pid0 ? p : undefined;
  }, { timeoutMs: 10_000 });
  assert.ok(await isRunning(restarted));

  const pid1 = await c.flotilladPid(1);
  process.kill(pid1, 'SIGTERM');
  await waitFor('flotillad on host2 to stop', async () => ((await c.flotilladPid(1)) === 0 ? true : undefined), { timeoutMs: 20_000 });
  const state = (await c.systemctl(1, ['show', '-p', 'ActiveState,Result', 'flotillad.service'])).stdout.trim().split('\n').sort();
  assert.deepEqual(state, ['ActiveState=inactive', 'Result=success']);

  const h3 = c.hosts[2] as ClusterHost;
  const pid2 = await c.flotilladPid(2);
  await c.killHost(2);
  assert.equal(await isRunning(pid2), false);
  assert.equal(await isRunning(h3.systemdPid), false);
  assert.equal(await c.flotilladPid(2), 0);
  assert.ok(await isRunning(restarted), 'other hosts are untouched');

  const back = await c.restartHost(2);
  assert.equal(back.machineId, h3.machineId);
  assert.notEqual(back.systemdPid, h3.systemdPid);
  assert.ok((await c.flotilladPid(2)) > 0);

  await c.down();
  assert.deepEqual(await liveProcsMentioning([dir]), []);
  assert.deepEqual(await existing(leftoverPaths(c)), []);
});
