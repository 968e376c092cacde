/**
 * --tunnel with the API driver against a real two-host dev cluster whose
 * hosts run a real sshd: every HTTP connection is an SSH exec channel on the
 * bastion running `flotctl fd-forward <socket>`. Reads match the etcd
 * driver's output, writes and their waits work through it, and every way the
 * tunnel can fail is one line.
 *
 * The dev hosts' SSH sessions get sshd's default PATH, on which no flotctl
 * is installed: FLOTCTL_TUNNEL_FORWARDER names this build's flotctl there
 * (the hosts share this machine's filesystem).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostsRunning } from '../support/hosts.js';
import { FLOTCTL } from './support/run.js';

let cluster: LocalCluster;
let etcdEnv: Record<string, string>;
let apiEnv: Record<string, string>;
let tunnel: string;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-tun-'), hosts: 2, ttlSeconds: 5 });
  etcdEnv = { ...cluster.flotctlEnv(), FLOTCTL_DRIVER: 'etcd' };
  const socket = cluster.apiSocket(0);
  const h = cluster.hosts[0];
  assert.ok(socket && h?.sshPort, 'host 1 serves the API and runs sshd');
  tunnel = `${h.publicIP}:${h.sshPort}`;
  apiEnv = {
    ...cluster.flotctlEnv(),
    FLOTCTL_DRIVER: 'api',
    FLOTCTL_ENDPOINT: `unix://${socket}`,
    FLOTCTL_TUNNEL_FORWARDER: `${process.execPath} ${FLOTCTL} fd-forward`,
  };
  work = await mkdtemp('/tmp/fl-tun-units-');
  await writeFile(join(work, 'solo.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
  await writeFile(join(work, 'tunnelled.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
  const r = await flotctl(etcdEnv, ['start', 'solo.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await cluster?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `expected one line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'stack trace printed');
}

test('list-units and list-machines through the tunnel print what the etcd driver prints', async () => {
  for (const cmd of [['list-units'], ['list-machines', '--full'], ['list-unit-files']]) {
    const direct = await flotctl(etcdEnv, cmd);
    assert.equal(direct.code, 0, direct.stderr);
    const tunnelled = await flotctl(apiEnv, ['--tunnel', tunnel, ...cmd]);
    assert.equal(tunnelled.code, 0, tunnelled.stderr);
    assert.equal(tunnelled.stderr, '');
    assert.equal(tunnelled.stdout, direct.stdout, cmd.join(' '));
  }
  assert.match((await flotctl(etcdEnv, ['list-units'])).stdout, /solo\.service/);
});

test('the connection really goes through the tunnel: a dead bastion or a forwarder that does not exist fails', async () => {
  const dead = await flotctl(apiEnv, ['--tunnel', `${cluster.hosts[0]?.publicIP}:1`, 'list-units']);
  assert.equal(dead.code, 255, dead.stderr);
  assert.match(dead.stderr, /^unable to SSH: connection to \S+:1 refused/);
  oneLine(dead.stderr);
  const missing = await flotctl({ ...apiEnv, FLOTCTL_TUNNEL_FORWARDER: '/nonexistent/flotctl fd-forward' }, ['--tunnel', tunnel, 'list-units']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /^the tunnel \S+ cannot run "\/nonexistent\/flotctl fd-forward" \(.*(not found|No such file).*\): put flotctl on the PATH of its SSH sessions, or set FLOTCTL_TUNNEL_FORWARDER/);
  oneLine(missing.stderr);
});

test('start through the tunnel: the write and its wait for systemd go over the channels', async () => {
  const r = await flotctl(apiEnv, ['--tunnel', tunnel, 'start', 'tunnelled.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Unit tunnelled\.service launched on [0-9a-f]{8}\.\.\./);
  await waitFor('the unit running on a host', async () => ((await hostsRunning(cluster, 'tunnelled.service')).length === 1 ? true : undefined), { timeoutMs: 15_000 });
  const destroyed = await flotctl(apiEnv, ['--tunnel', tunnel, 'destroy', 'tunnelled.service']);
  assert.equal(destroyed.code, 0, destroyed.stderr);
  assert.match(destroyed.stdout, /Destroyed tunnelled\.service/);
});

test('a bad host key of the bastion fails with the one-line host-key message, exit 255', async () => {
  const known = await readFile(apiEnv.FLOTCTL_KNOWN_HOSTS_FILE as string, 'utf8');
  const impostor = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
  const tampered = join(work, 'known_hosts.tampered');
  await writeFile(tampered, known.split('\n').filter(Boolean).map((l) => `${l.split(' ')[0]} ${impostor}\n`).join(''));
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ FLOTCTL_KNOWN_HOSTS_FILE: tampered }, /^unable to SSH: host key verification failed: the key of \S+ \(SHA256:\S+\) differs from line \d+ of /],
    [{ FLOTCTL_KNOWN_HOSTS_FILE: join(work, 'none') }, /^unable to SSH: host key verification failed: \S+ is not in \S+none; add its key/],
  ];
  for (const [extra, want] of cases) {
    const r = await flotctl({ ...apiEnv, ...extra }, ['--tunnel', tunnel, 'list-units']);
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, want);
    oneLine(r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('no socket on the bastion, and a TCP endpoint, are one line each', async () => {
  const noSocket = await flotctl({ ...apiEnv, FLOTCTL_ENDPOINT: 'unix:///tmp/fl-tun-nothing.sock' }, ['--tunnel', tunnel, 'list-units']);
  assert.equal(noSocket.code, 3, noSocket.stderr);
  assert.match(noSocket.stderr, /^flotctl: flotillad API unreachable at unix:\/\/\/tmp\/fl-tun-nothing\.sock through the tunnel \S+: fd-forward: no socket at \/tmp\/fl-tun-nothing\.sock/);
  oneLine(noSocket.stderr);
  const tcp = await flotctl({ ...apiEnv, FLOTCTL_ENDPOINT: 'http://127.0.0.1:4001' }, ['--tunnel', tunnel, 'list-units']);
  assert.equal(tcp.code, 2, tcp.stderr);
  assert.match(tcp.stderr, /^flotctl: --tunnel with the API driver reaches flotillad's unix socket on the bastion, and http:\/\/127\.0\.0\.1:4001 is not one: give --endpoint unix:\/\/\//);
  oneLine(tcp.stderr);
});
