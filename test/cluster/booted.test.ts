/**
 * A cluster of hosts that really boot: systemd-nspawn over the cached
 * Debian rootfs, systemd as PID 1, journald, sshd, the system bus, and
 * flotillad installed from the release tarball as a system service. Every
 * claim is checked on the hosts' own systemd (through nsenter), never only
 * through Flotilla.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LocalCluster } from '../../src/dev/cluster.js';
import { ensureRootfs } from '../../src/dev/boot/rootfs.js';
import { mountsUnder } from '../../src/dev/boot/host-root.js';
import { livePidsIn } from '../../src/dev/cgroups.js';
import { serveDirectory } from '../../src/dev/static-server.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';
import { HostSystemd } from '../support/host-systemd.js';
import { existing, liveProcsMentioning } from '../dev/leftovers.js';

const TTL = 3;
let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;
let down = false;
/** The host the power-loss test switched off. */
let poweredOff = -1;

before(async () => {
  await ensureRootfs({ log: (m) => process.stderr.write(`${m}\n`) });
  const t0 = Date.now();
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-boot-'), hosts: 3, ttlSeconds: TTL, boot: true });
  process.stderr.write(`booted 3-host cluster ready in ${Date.now() - t0} ms\n`);
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-boot-units-');
  await writeFile(join(work, 'hello.service'), '[Service]\nExecStart=/bin/sh -c \'echo "hello from $(hostname)"; exec sleep infinity\'\n');
  for (const n of ['a', 'b', 'c']) await writeFile(join(work, `${n}.service`), '[Service]\nExecStart=/bin/sleep infinity\n');
});

after(async () => {
  if (!down) await cluster?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

async function inHost(i: number, argv: string[]): Promise<string> {
  const r = await cluster.exec(i, argv);
  assert.equal(r.code, 0, `${argv.join(' ')} on host ${i + 1}: ${r.stderr}`);
  return r.stdout.trim();
}

test('each host is a whole system: systemd as PID 1, its own machine id, hostname and root, no Node', async () => {
  const ids = new Set<string>();
  for (const [i, h] of cluster.hosts.entries()) {
    assert.equal(await inHost(i, ['cat', '/proc/1/comm']), 'systemd');
    assert.match(await inHost(i, ['systemctl', 'is-system-running']), /^(running|degraded)$/);
    assert.equal(await inHost(i, ['cat', '/etc/machine-id']), h.machineId);
    assert.equal(await inHost(i, ['hostname']), h.name);
    ids.add(h.machineId);
    for (const unit of ['systemd-journald.service', 'dbus.service', 'ssh.service']) {
      // Waited for, not read once: a fresh-clone run once found ssh.service not yet active
      // (is-active exit 3) right after the cluster reported ready, and passed every later
      // test that logs in over it. If it never gets there, the failure shows its status.
      const active = await waitFor(`${unit} active on ${h.name}`, async () => ((await cluster.exec(i, ['systemctl', 'is-active', unit])).code === 0 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 200,
      }).catch(async () => (await cluster.exec(i, ['systemctl', 'status', '--no-pager', unit])).stdout);
      assert.equal(active, true, `${unit} on ${h.name} is not active: ${String(active)}`);
    }
    assert.notEqual((await cluster.exec(i, ['sh', '-c', 'command -v node npm'])).code, 0, `${h.name} has Node outside the release`);
  }
  assert.equal(ids.size, 3);
  // Own filesystems: a file written on one host is not on another.
  await inHost(0, ['sh', '-c', 'echo mine > /etc/only-here']);
  assert.notEqual((await cluster.exec(1, ['test', '-e', '/etc/only-here'])).code, 0);
});

test('flotillad runs from the release as a system service of PID 1 and drives the system manager', async () => {
  for (const i of cluster.hosts.map((_, k) => k)) {
    const props = await inHost(i, ['systemctl', 'show', '-p', 'ActiveState,FragmentPath,UnitFileState,ExecStart', 'flotillad.service']);
    assert.match(props, /^ActiveState=active$/m);
    assert.match(props, /^FragmentPath=\/etc\/systemd\/system\/flotillad\.service$/m);
    assert.match(props, /^UnitFileState=enabled$/m);
    assert.match(props, /path=\/opt\/flotilla\/bin\/flotillad ; argv\[\]=\/opt\/flotilla\/bin\/flotillad --config \/etc\/flotilla\/flotillad\.conf/);
    const main = await inHost(i, ['systemctl', 'show', '-p', 'MainPID', '--value', 'flotillad.service']);
    assert.match(await inHost(i, ['cat', `/proc/${main}/cmdline`]), /^\/opt\/flotilla\/runtime\/node\0/);
  }
  const r = await flotctl(env, ['list-machines', '--no-legend', '-l']);
  assert.equal(r.code, 0, r.stderr);
  for (const h of cluster.hosts) assert.match(r.stdout, new RegExp(`${h.machineId}\\s+${h.publicIP.replaceAll('.', '\\.')}\\s`));
  // The tests' direct view of a host's systemd works on its system bus too (through /proc/<init>/root).
  const direct = new HostSystemd(cluster, (u) => u === 'flotillad.service');
  try {
    for (const v of await direct.viewAll()) assert.equal(v.running?.get('flotillad.service')?.active, 'active', v.error);
  } finally {
    direct.close();
  }
});

test('a placed unit runs on its host; status, journal and ssh reach that host (system scope)', async () => {
  const start = await flotctl(env, ['start', 'hello.service'], { cwd: work });
  assert.equal(start.code, 0, start.stderr);
  const host = await waitFor('hello.service active on one host', async () => {
    const on = await hostsRunning(cluster, 'hello.service');
    return on.length === 1 ? on[0] : undefined;
  }, { timeoutMs: 20_000 });
  const name = cluster.hosts[host]?.name ?? '?';
  const pid = (await hostUnit(cluster, host, 'hello.service')).mainPid;

  const status = await flotctl(env, ['status', 'hello.service']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Active: active \(running\)/);
  assert.match(status.stdout, new RegExp(`Main PID: ${pid}\\b`));

  // journald runs on the host: the unit's own output is in its journal.
  const journal = await waitFor('the unit output in its journal', async () => {
    const r = await flotctl(env, ['journal', 'hello.service']);
    return r.code === 0 && r.stdout.includes(`hello from ${name}`) ? r : undefined;
  }, { timeoutMs: 10_000 });
  assert.match(journal.stdout, new RegExp(`${name} sh\\[${pid}\\]: hello from ${name}`));

  const ssh = await flotctl(env, ['ssh', 'hello.service', '--', 'systemctl', 'show', '-p', 'MainPID', '--value', 'hello.service']);
  assert.equal(ssh.code, 0, ssh.stderr);
  assert.equal(ssh.stdout.trim(), String(pid));
});

test("the release's own flotctl, run inside a host, reads the cluster: with no flags through its flotillad's API socket, and from etcd", async () => {
  // As a user on the host runs it: the default driver and endpoint, unix:///var/run/flotilla.sock.
  const viaApi = await cluster.exec(1, ['/opt/flotilla/bin/flotctl', 'list-units', '--no-legend']);
  assert.equal(viaApi.code, 0, viaApi.stderr);
  assert.match(viaApi.stdout, /^hello\.service\s/m);
  const viaEtcd = await cluster.exec(1, ['/opt/flotilla/bin/flotctl', '--driver=etcd', `--endpoint=${cluster.endpoints.join(',')}`, `--etcd-key-prefix=${cluster.prefix}`, 'list-units', '--no-legend']);
  assert.equal(viaEtcd.code, 0, viaEtcd.stderr);
  assert.equal(viaEtcd.stdout, viaApi.stdout);
});

test('power loss of a host (its nspawn and everything in it killed at once): its units become active on the others', async () => {
  const start = await flotctl(env, ['start', 'a.service', 'b.service', 'c.service'], { cwd: work });
  assert.equal(start.code, 0, start.stderr);
  const units = ['hello.service', 'a.service', 'b.service', 'c.service'];
  await waitFor('every unit active somewhere', async () => {
    for (const u of units) if ((await hostsRunning(cluster, u)).length !== 1) return undefined;
    return true;
  }, { timeoutMs: 20_000 });
  const victim = (await hostsRunning(cluster, 'hello.service'))[0] as number;
  const mine: string[] = [];
  for (const u of units) if ((await hostUnit(cluster, victim, u)).active === 'active') mine.push(u);
  const nspawnPid = cluster.hosts[victim]?.boot?.nspawnPid ?? 0;

  await cluster.killHost(victim);
  poweredOff = victim;
  assert.equal(await readFile(`/proc/${nspawnPid}/stat`, 'utf8').then((s) => /^\d+ \(.*\) Z/.test(s), () => true), true, 'nspawn still runs');
  const survivors = cluster.hosts.map((_, i) => i).filter((i) => i !== victim);
  for (const u of mine) {
    const on = await waitFor(`${u} active on a surviving host`, async () => {
      const running = await hostsRunning(cluster, u, survivors);
      return running.length === 1 ? running[0] : undefined;
    }, { timeoutMs: (TTL + 15) * 1000 });
    assert.notEqual(on, victim);
  }
  const m = await flotctl(env, ['list-machines', '--no-legend']);
  assert.equal(m.stdout.trim().split('\n').length, 2, m.stdout);
});

test('a powered-off host boots again from its own disk, with its machine id, and rejoins', async () => {
  const down = poweredOff;
  assert.ok(down >= 0, 'the power-loss test did not run');
  assert.notEqual((await cluster.exec(down, ['true'])).code, 0, 'the host still runs');
  const before = cluster.hosts[down];
  const host = await cluster.restartHost(down);
  assert.equal(host.machineId, before?.machineId);
  assert.equal(await inHost(down, ['cat', '/etc/machine-id']), host.machineId);
  // Written before the power loss on host 1, still there: the disk survived.
  if (down === 0) assert.equal(await inHost(0, ['cat', '/etc/only-here']), 'mine');
  const m = await flotctl(env, ['list-machines', '--no-legend']);
  assert.equal(m.stdout.trim().split('\n').length, 3, m.stdout);
});

test('a bare host: files written before boot, no flotillad until its own bootstrap fetches the release over HTTP and installs it', async () => {
  const release = cluster.release;
  assert.ok(release);
  const server = await serveDirectory(dirname(release.tarball));
  try {
    const url = server.urlOf(basename(release.tarball));
    const i = cluster.hosts.length;
    const host = await cluster.addHost({
      install: 'none',
      waitForAgent: false,
      // What a cloud-init seed or Ignition's files stage would do: files in the unbooted root.
      beforeBoot: async (h) => {
        await writeFile(join(h.root, 'etc', 'systemd', 'system', 'first-boot.service'), '[Unit]\nConditionFirstBoot=yes\n[Service]\nType=oneshot\nExecStart=/bin/touch /run/first-boot\n');
        await symlink('../first-boot.service', join(h.root, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'first-boot.service'));
        await writeFile(join(h.root, 'etc', 'flotilla-bootstrap.sh'), [
          'set -eu',
          `curl -fsS -o /tmp/flotilla.tar.gz ${url}`,
          `echo "${release.sha256}  /tmp/flotilla.tar.gz" | sha256sum -c -`,
          'mkdir -p /opt/flotilla /etc/flotilla && tar -xzf /tmp/flotilla.tar.gz -C /opt/flotilla',
          `printf 'etcd_servers=${cluster.endpoints.join(',')}\\netcd_key_prefix=${cluster.prefix}\\npublic_ip=${h.publicIP}\\nagent_ttl=${TTL}\\n' > /etc/flotilla/flotillad.conf`,
          'cp /opt/flotilla/flotillad.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now flotillad.service',
          '',
        ].join('\n'));
      },
    });
    assert.equal((await cluster.exec(i, ['test', '-e', '/opt/flotilla'])).code, 1, 'a bare host has no release');
    // Its first boot, as a freshly provisioned machine's: systemd applied presets, the id is the one chosen.
    assert.equal((await cluster.exec(i, ['cat', '/etc/machine-id'])).stdout.trim(), host.machineId);
    assert.equal((await cluster.exec(i, ['test', '-e', '/run/first-boot'])).code, 0, 'ConditionFirstBoot=yes did not hold');
    assert.match((await cluster.exec(i, ['systemctl', 'show', '-p', 'LoadState', '--value', 'flotillad.service'])).stdout, /not-found/);
    const boot = await cluster.exec(i, ['sh', '/etc/flotilla-bootstrap.sh'], { timeoutMs: 60_000 });
    assert.equal(boot.code, 0, boot.stderr);
    assert.ok(server.requests.includes(`/${basename(release.tarball)}`));
    await waitFor(`${host.name} joined`, async () => {
      const r = await flotctl(env, ['list-machines', '--no-legend', '-l']);
      return r.stdout.includes(host.machineId) ? true : undefined;
    }, { timeoutMs: 30_000 });
  } finally {
    await server.close();
  }
});

test('down leaves no mounts, processes or cgroups', async () => {
  const hosts = [...cluster.hosts];
  const dir = cluster.dir;
  await cluster.down();
  down = true;
  assert.deepEqual(await mountsUnder(dir), []);
  for (const h of hosts) assert.deepEqual(await livePidsIn(h.cgroupPaths), [], `processes left in ${h.name}'s cgroups`);
  assert.deepEqual(await existing(hosts.flatMap((h) => h.cgroupPaths)), []);
  assert.deepEqual(await liveProcsMentioning([dir]), []);
});
