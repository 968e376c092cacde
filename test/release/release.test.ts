/**
 * The release as a host gets it: unpacked into a Debian root that has no
 * Node and no npm (an overlay of the booted hosts' cached rootfs), both
 * programs run there (chroot), flotctl reaches a real etcd through the
 * bundled gRPC client, and a host that lacks what the runtime needs gets one
 * line naming it instead of the dynamic loader's message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chmod, mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ensureRelease, type Release } from '../../src/release/build.js';
import { runtimeNeeds } from '../../src/release/runtime.js';
import { ensureRootfs } from '../../src/dev/boot/rootfs.js';
import { hostRootPaths, mountHostRoot, unmountHostRoot, type HostRootPaths } from '../../src/dev/boot/host-root.js';
import { run, type RunResult } from '../../src/dev/exec.js';
import { startEtcd, type EtcdCluster } from '../../src/dev/etcd.js';

let release: Release;
let rootfs: string;
let work: string;
const roots: HostRootPaths[] = [];
let etcd: EtcdCluster | undefined;

/** A fresh host root with the release unpacked as INSTALL says. */
async function hostWithRelease(name: string): Promise<string> {
  const paths = hostRootPaths(join(work, name), rootfs);
  await mountHostRoot(paths);
  roots.push(paths);
  await mkdir(join(paths.root, 'opt', 'flotilla'), { recursive: true });
  const r = await run('tar', ['-xzf', release.tarball, '-C', join(paths.root, 'opt', 'flotilla')]);
  assert.equal(r.code, 0, r.stderr);
  return paths.root;
}

function chroot(root: string, argv: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run('/usr/sbin/chroot', [root, ...argv], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } });
}

function oneLine(r: RunResult): string {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got: ${r.stderr}`);
  return lines[0] as string;
}

before(async () => {
  const built = await ensureRootfs({ log: (m) => process.stderr.write(`${m}\n`) });
  rootfs = built.path;
  release = await ensureRelease();
  work = await mkdtemp('/tmp/fl-release-');
});

after(async () => {
  await etcd?.stop();
  for (const p of roots) await unmountHostRoot(p).catch((err: unknown) => console.error(err));
  if (work) await rm(work, { recursive: true, force: true });
});

test('the archive holds launchers, bundles, runtime and unit at its top; the .sha256 file matches it', async () => {
  const list = await run('tar', ['-tzf', release.tarball]);
  assert.equal(list.code, 0, list.stderr);
  const entries = new Set(list.stdout.trim().split('\n'));
  for (const f of ['./bin/flotillad', './bin/flotctl', './lib/flotillad.mjs', './lib/flotctl.mjs', './lib/flotctl.js', './lib/package.json', './lib/proto/rpc.proto', './lib/flotctl-help.json', './runtime/node', './flotillad.service', './package.json', './INSTALL', './THIRD-PARTY-LICENSES']) {
    assert.ok(entries.has(f), `${f} missing from the archive`);
  }
  assert.ok(![...entries].some((e) => e.includes('node_modules')), 'node_modules shipped: the programs are bundled');
  assert.match(basename(release.tarball), /^flotilla-\d+\.\d+\.\d+-linux-x64\.tar\.gz$/);
  const hex = createHash('sha256').update(await readFile(release.tarball)).digest('hex');
  assert.equal(await readFile(release.sha256File, 'utf8'), `${hex}  ${basename(release.tarball)}\n`);
  const check = await run('sh', ['-c', `cd ${dirname(release.tarball)} && sha256sum -c ${basename(release.sha256File)}`]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('flotillad.service runs the release as a system service from /opt/flotilla', async () => {
  const root = await hostWithRelease('unit');
  const unit = await readFile(join(root, 'opt', 'flotilla', 'flotillad.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/opt\/flotilla\/bin\/flotillad --config \/etc\/flotilla\/flotillad\.conf$/m);
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
  const verify = await run('systemd-analyze', ['verify', `--root=${root}`, join(root, 'opt', 'flotilla', 'flotillad.service')]);
  assert.doesNotMatch(verify.stderr, /flotillad\.service:\d+:/, verify.stderr);
});

test('on a host without Node, both programs run from the unpacked release', async () => {
  const root = await hostWithRelease('plain');
  const node = await chroot(root, ['sh', '-c', 'command -v node nodejs npm']);
  assert.notEqual(node.code, 0, `the host root has Node: ${node.stdout}`);
  const version = JSON.parse(await readFile(join(root, 'opt', 'flotilla', 'package.json'), 'utf8')) as { version: string };

  const ctl = await chroot(root, ['/opt/flotilla/bin/flotctl', 'version']);
  assert.equal(ctl.code, 0, ctl.stderr);
  assert.equal(ctl.stdout.trim(), `flotctl version ${version.version}`);
  const daemon = await chroot(root, ['/opt/flotilla/bin/flotillad', '--version']);
  assert.equal(daemon.code, 0, daemon.stderr);
  assert.equal(daemon.stdout.trim(), `flotillad version ${version.version}`);

  // Help comes from the pre-rendered texts beside the bundle, the same as the checkout's.
  const help = await chroot(root, ['/opt/flotilla/bin/flotctl', 'help']);
  assert.equal(help.code, 0, help.stderr);
  const local = spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/flotctl.js', import.meta.url)), 'help'], { encoding: 'utf8' });
  assert.equal(help.stdout, local.stdout);

  // Through a symlink on PATH, as INSTALL suggests.
  await symlink('/opt/flotilla/bin/flotctl', join(root, 'usr', 'local', 'bin', 'flotctl'));
  const linked = await chroot(root, ['flotctl', 'version'], { PATH: '/usr/local/bin:/usr/bin:/bin' });
  assert.equal(linked.code, 0, linked.stderr);

  // The daemon's own checks run (config loading), with its one-line errors.
  const bad = await chroot(root, ['/opt/flotilla/bin/flotillad', '--config', '/etc/flotilla/none.conf']);
  assert.notEqual(bad.code, 0);
  assert.match(oneLine(bad), /^flotillad: config file \/etc\/flotilla\/none\.conf cannot be read/);
});

test("the bundled flotctl reaches a real etcd (etcd3's gRPC definitions are in the bundle)", async () => {
  const root = await hostWithRelease('etcd');
  etcd = await startEtcd({ dir: join(work, 'etcd'), members: 1, fastElection: true });
  const endpoint = etcd.endpoints.join(',');
  const machines = await chroot(root, ['/opt/flotilla/bin/flotctl', '--driver=etcd', `--endpoint=${endpoint}`, 'list-machines']);
  assert.equal(machines.code, 0, machines.stderr);
  assert.match(machines.stdout, /^MACHINE\s+IP\s+METADATA$/m);
  const units = await chroot(root, ['/opt/flotilla/bin/flotctl', '--driver=etcd', `--endpoint=${endpoint}`, 'list-unit-files']);
  assert.equal(units.code, 0, units.stderr);
});

test('a host without libstdc++ gets one line naming it, exit 127, before Node is started', async () => {
  const root = await hostWithRelease('nolibstdcxx');
  const rm1 = await run('sh', ['-c', `rm -f ${root}/usr/lib/x86_64-linux-gnu/libstdc++.so.6*`]);
  assert.equal(rm1.code, 0, rm1.stderr);
  // Without the launcher's check, this is what the host would print:
  const raw = await chroot(root, ['/opt/flotilla/runtime/node', '--version']);
  assert.match(raw.stderr, /error while loading shared libraries/);
  for (const prog of ['flotctl', 'flotillad']) {
    const r = await chroot(root, [`/opt/flotilla/bin/${prog}`, 'version']);
    assert.equal(r.code, 127);
    const line = oneLine(r);
    assert.match(line, new RegExp(`^${prog}: cannot start: this host lacks libstdc\\+\\+\\.so\\.6; the bundled Node runtime needs glibc >= \\d+\\.\\d+`));
    assert.doesNotMatch(line, /error while loading/);
  }
});

test('no glibc loader, or a glibc too old for the runtime: one line each, exit 127', async () => {
  const root = await hostWithRelease('oldglibc');
  const none = await chroot(root, ['/opt/flotilla/bin/flotctl', 'version'], { FLOTILLA_LOADER: '/lib/ld-musl-x86_64.so.1' });
  assert.equal(none.code, 127);
  assert.match(oneLine(none), /^flotctl: cannot start: this host has no glibc dynamic loader at \/lib\/ld-musl-x86_64\.so\.1; the bundled Node runtime needs glibc >= /);

  // A loader that answers as glibc 2.17's does for a binary that needs newer symbols.
  const fake = join(root, 'old-ld.so');
  await writeFile(fake, "#!/bin/sh\necho \"$2: /lib64/libc.so.6: version \\`GLIBC_2.28' not found (required by $2)\" >&2\nexit 1\n");
  await chmod(fake, 0o755);
  const old = await chroot(root, ['/opt/flotilla/bin/flotillad', '--version'], { FLOTILLA_LOADER: '/old-ld.so' });
  assert.equal(old.code, 127);
  assert.match(oneLine(old), /^flotillad: cannot start: this host lacks symbol version GLIBC_2\.28; /);
});

test("INSTALL states the glibc and libstdc++ versions read from the runtime's symbol references", async () => {
  const needs = await runtimeNeeds(process.execPath);
  assert.match(needs.glibc, /^2\.\d+$/);
  assert.match(needs.glibcxx, /^3\.4\.\d+$/);
  assert.ok(needs.libraries.includes('libstdc++.so.6') && needs.libraries.includes('libc.so.6'), needs.libraries.join(' '));
  const root = await hostWithRelease('install');
  const text = await readFile(join(root, 'opt', 'flotilla', 'INSTALL'), 'utf8');
  assert.ok(text.includes(`glibc >= ${needs.glibc}`), text);
  assert.ok(text.includes(`GLIBCXX_${needs.glibcxx}`), text);
});
