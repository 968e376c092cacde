/**
 * Bootstraps on booted hosts: a bare Debian system (systemd as PID 1 under
 * systemd-nspawn, no flotillad) is given only what its provisioning system
 * would get, a bootstrap rendered by `flotillad bootstrap-config` with this
 * cluster's inputs, and must install the release (served over HTTP on
 * loopback), join the cluster and run a unit. Checked on the host's own
 * systemd. Prints the time from boot to "joined" and to "first unit active".
 *
 * - cloud-init: the bootstrap is the NoCloud seed's user-data (a jinja
 *   template: the address comes from the seed's meta-data); cloud-init's
 *   network configuration is disabled, as the hosts share the machine's
 *   network namespace.
 * - Ignition: the Ignition binary applies the config to the host's fresh root
 *   (fetch and files stages, `-platform file`), fetching the release itself;
 *   the host then boots for the first time (systemd applies Ignition's preset).
 *   A stand-in for Afterburn's coreos-metadata.service writes the address to
 *   /run/metadata/flatcar, as the `custom` platform has you do.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { LocalCluster, type PreparedHost } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { flotillad, run } from './support/render.js';

const IGNITION = '/usr/lib/dracut/modules.d/30ignition/ignition';
const TTL = 5;
const JOIN_TIMEOUT_MS = 180_000;

let cluster: LocalCluster;
let env: Record<string, string>;
let etcd: Etcd3;
let work: string;
const figures: string[] = [];

before(async () => {
  const dir = await mkdtemp('/tmp/fl-boot-');
  cluster = await LocalCluster.start({ dir, hosts: 0, ttlSeconds: TTL, boot: true });
  env = cluster.flotctlEnv();
  etcd = new Etcd3({ hosts: cluster.endpoints });
  work = await mkdtemp('/tmp/fl-boot-units-');
});

after(async () => {
  for (const f of figures) process.stdout.write(`# ${f}\n`);
  etcd?.close();
  await cluster?.down();
});

/** The release over HTTP on loopback, counting the downloads. */
async function serveRelease(): Promise<{ url: string; sha256: string; downloads: () => number; close: () => Promise<void> }> {
  const release = cluster.release;
  assert.ok(release, 'a booted cluster has a release');
  const name = basename(release.tarball);
  let downloads = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== `/${name}`) {
      res.writeHead(404).end();
      return;
    }
    downloads++;
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': statSync(release.tarball).size });
    createReadStream(release.tarball).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${name}`,
    sha256: release.sha256,
    downloads: () => downloads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The bootstrap as an operator renders it, with this cluster's etcd and this host's address source. */
async function renderBootstrap(format: 'cloud-init' | 'ignition', release: { url: string; sha256: string }, host: PreparedHost): Promise<string> {
  const r = await flotillad([
    'bootstrap-config', '--format', format,
    '--etcd-servers', cluster.endpoints.join(','),
    '--etcd-key-prefix', env.FLOTCTL_ETCD_KEY_PREFIX!,
    '--agent-ttl', `${TTL}s`,
    '--metadata', `hostname=${host.name},bootstrap=${format}`,
    '--public-ip', '$private_ipv4',
    '--release-url', release.url,
    '--release-sha256', release.sha256,
    // The dev hosts' sshd listens on the host's own port (they share the machine's network).
    '--set', `ssh_port=${host.sshPort}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** A unit pinned to the new host, submitted and started before the host exists. */
async function startPinned(name: string, machineId: string): Promise<void> {
  const path = join(work, name);
  await writeFile(path, `[Unit]\nDescription=${name}\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineID=${machineId}\n`);
  const r = await flotctl(env, ['start', '--no-block', path], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
}

interface Joined {
  joinedMs: number;
  assignedMs: number;
  activeMs: number;
  publicIP: string;
}

/** From boot start: when the machine record appears, when the engine assigns the unit, when the host reports it active. */
function watchJoin(machineId: string, unit: string, bootStarted: () => number | undefined): Promise<Joined> {
  const prefix = env.FLOTCTL_ETCD_KEY_PREFIX!;
  return (async () => {
    const record = await waitFor(`${machineId} to join`, async () => etcd.get(`${prefix}machines/${machineId}`).string().then((v) => v ?? undefined), { timeoutMs: JOIN_TIMEOUT_MS, intervalMs: 100 });
    const joinedMs = Date.now() - bootStarted()!;
    await waitFor(`${unit} assigned to ${machineId}`, async () => ((await etcd.get(`${prefix}assignments/${machineId}/${unit}`).string()) ? true : undefined), { timeoutMs: JOIN_TIMEOUT_MS, intervalMs: 100 });
    const assignedMs = Date.now() - bootStarted()!;
    await waitFor(`${unit} active on ${machineId}`, async () => {
      const v = await etcd.get(`${prefix}states/${unit}/${machineId}`).string();
      return v && (JSON.parse(v) as { active: string }).active === 'active' ? true : undefined;
    }, { timeoutMs: JOIN_TIMEOUT_MS, intervalMs: 100 });
    const activeMs = Date.now() - bootStarted()!;
    return { joinedMs, assignedMs, activeMs, publicIP: (JSON.parse(record) as { publicIP: string }).publicIP };
  })();
}

function timeline(j: Joined): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return `boot -> joined ${s(j.joinedMs)}, -> unit assigned ${s(j.assignedMs)}, -> first unit active ${s(j.activeMs)} (shared 2-core machine)`;
}

async function hostIs(i: number, unit: string): Promise<string> {
  return (await cluster.systemctl(i, ['is-active', unit])).stdout.trim();
}

function indexOf(machineId: string): number {
  const i = cluster.hosts.findIndex((h) => h.machineId === machineId);
  assert.ok(i >= 0, `${machineId} is a cluster host`);
  return i;
}

test('cloud-init: a bare host whose NoCloud seed is cloud-init.yaml installs the release, joins and runs a unit', async () => {
  const release = await serveRelease();
  let bootAt: number | undefined;
  let joined: Promise<Joined> | undefined;
  let host: PreparedHost | undefined;
  try {
    const added = await cluster.addHost({
      install: 'none',
      waitForAgent: false,
      beforeBoot: async (h) => {
        host = h;
        const seed = join(h.root, 'var', 'lib', 'cloud', 'seed', 'nocloud');
        await mkdir(seed, { recursive: true });
        await writeFile(join(seed, 'user-data'), await renderBootstrap('cloud-init', release, h));
        // local-ipv4: the EC2-style key the template reads the address from.
        await writeFile(join(seed, 'meta-data'), `instance-id: ${h.machineId}\nlocal-hostname: ${h.name}\nlocal-ipv4: ${h.publicIP}\n`);
        await mkdir(join(h.root, 'etc', 'cloud', 'cloud.cfg.d'), { recursive: true });
        // No network configuration (the hosts share the machine's network); no locale module
        // (the minbase root has no locales package, so update-locale fails and cloud-init reports it).
        await writeFile(join(h.root, 'etc', 'cloud', 'cloud.cfg.d', '99-flotilla-test.cfg'), 'datasource_list: [NoCloud]\nnetwork: {config: disabled}\nlocale: false\n');
        await startPinned('boot-cloud-init.service', h.machineId);
        joined = watchJoin(h.machineId, 'boot-cloud-init.service', () => bootAt);
        bootAt = Date.now();
      },
    });
    assert.ok(host && joined);
    const j = await joined;
    const i = indexOf(added.machineId);
    assert.equal(j.publicIP, host.publicIP, 'the address came from the seed\'s meta-data through the jinja template');
    assert.equal(await hostIs(i, 'flotillad.service'), 'active');
    assert.equal(await hostIs(i, 'boot-cloud-init.service'), 'active');
    assert.equal(await hostIs(i, 'flotilla-install.service'), 'active');
    const status = await cluster.exec(i, ['cloud-init', 'status', '--long']);
    assert.match(status.stdout, /status: done/, status.stdout + status.stderr);
    assert.doesNotMatch(status.stdout, /errors: \[.+\]/);
    assert.equal(release.downloads(), 1);
    const conf = await readFile(join(host.root, 'etc', 'flotilla', 'flotillad.conf'), 'utf8');
    assert.match(conf, new RegExp(`^public_ip=${host.publicIP.replaceAll('.', '\\.')}$`, 'm'));
    figures.push(`cloud-init host: ${timeline(j)}`);
  } finally {
    await release.close();
  }
});

test('Ignition: flatcar.ign applied by the Ignition binary to a fresh host root; the host boots, joins and runs a unit', async () => {
  const release = await serveRelease();
  let bootAt: number | undefined;
  let joined: Promise<Joined> | undefined;
  let host: PreparedHost | undefined;
  let ignitionMs = 0;
  try {
    const added = await cluster.addHost({
      install: 'none',
      waitForAgent: false,
      beforeBoot: async (h) => {
        host = h;
        const root = h.root;
        const scratch = await mkdtemp('/tmp/fl-ign-');
        const config = join(scratch, 'config.ign');
        await writeFile(config, await renderBootstrap('ignition', release, h));
        // What Flatcar's image has and this Debian root lacks: an SELinux config and setfiles,
        // which Ignition runs to relabel what it wrote (a no-op here: no SELinux on this machine),
        // no cloud-init, and Afterburn (here a stand-in for the `custom` platform).
        await mkdir(join(root, 'etc', 'selinux'), { recursive: true });
        await writeFile(join(root, 'etc', 'selinux', 'config'), 'SELINUX=disabled\nSELINUXTYPE=targeted\n');
        await mkdir(join(scratch, 'bin'));
        await writeFile(join(scratch, 'bin', 'setfiles'), '#!/bin/sh\n# No SELinux here: take the file list Ignition sends, label nothing.\ncat >/dev/null\n', { mode: 0o755 });
        await mkdir(join(root, 'etc', 'cloud'), { recursive: true });
        await writeFile(join(root, 'etc', 'cloud', 'cloud-init.disabled'), 'Ignition host\n');
        await writeFile(join(root, 'etc', 'systemd', 'system', 'coreos-metadata.service'), [
          '[Unit]', 'Description=Afterburn stand-in: this host\'s address in /run/metadata/flatcar', '',
          '[Service]', 'Type=oneshot', 'RemainAfterExit=yes',
          `ExecStart=/bin/sh -c 'mkdir -p /run/metadata && echo COREOS_CUSTOM_PRIVATE_IPV4=${h.publicIP} > /run/metadata/flatcar'`, '',
        ].join('\n'));
        // An image that has never booted: machine-id(5)'s "uninitialized" makes this boot the first,
        // when systemd applies presets (Ignition enables units through one; Debian's root ships an
        // empty machine-id, which systemd does not count as a first boot).
        await writeFile(join(root, 'etc', 'machine-id'), 'uninitialized\n');
        const t0 = Date.now();
        for (const stage of ['fetch', 'files']) {
          const r = await run(IGNITION, ['-platform', 'file', '-stage', stage, '-root', root, '-log-to-stdout', '-config-cache', join(scratch, 'cache.json'), '-state-file', join(scratch, 'state')], {
            env: { ...process.env, IGNITION_CONFIG_FILE: config, PATH: `${join(scratch, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}` },
          });
          assert.equal(r.code, 0, `ignition ${stage}: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
        }
        ignitionMs = Date.now() - t0;
        assert.equal(release.downloads(), 1, 'Ignition fetched the release itself');
        assert.ok(existsSync(join(root, 'var', 'lib', 'flotilla', 'release.tar.gz')));
        assert.equal(statSync(join(root, 'etc', 'flotilla', 'install-release')).mode & 0o777, 0o755);
        await startPinned('boot-ignition.service', h.machineId);
        joined = watchJoin(h.machineId, 'boot-ignition.service', () => bootAt);
        bootAt = Date.now();
      },
    });
    assert.ok(host && joined);
    const j = await joined;
    const i = indexOf(added.machineId);
    assert.equal(j.publicIP, host.publicIP, 'the address came from /run/metadata/flatcar');
    assert.equal(await hostIs(i, 'flotillad.service'), 'active');
    assert.equal(await hostIs(i, 'boot-ignition.service'), 'active');
    assert.equal((await cluster.systemctl(i, ['is-enabled', 'flotilla-install.service'])).stdout.trim(), 'enabled', 'the preset Ignition wrote was applied at first boot');
    assert.equal(release.downloads(), 1, 'the oneshot only unpacked what Ignition had fetched');
    figures.push(`Ignition host: Ignition fetch+files ${(ignitionMs / 1000).toFixed(1)} s before boot; ${timeline(j)}`);
  } finally {
    await release.close();
  }
});
