/**
 * Condition and Assert evaluation against a fake host (pure: host facts are
 * a value; paths live in a temporary host root).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnitFile } from '../../src/unit/index.js';
import { refusalReason } from '../../src/conditions/host-checks.js';
import type { HostFacts } from '../../src/conditions/host-facts.js';

const MACHINE = '0123456789abcdef0123456789abcdef';
let root = '';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fl-conditions-'));
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'dev/kvm'), 'x');
  await mkdir(join(root, 'etc/app'), { recursive: true });
  await writeFile(join(root, 'etc/app/app.conf'), 'k=v\n');
  await mkdir(join(root, 'etc/quiet'));
  await writeFile(join(root, 'etc/quiet/.hidden'), 'x');
  await writeFile(join(root, 'etc/quiet/old.conf~'), 'x');
  await writeFile(join(root, 'etc/quiet/x.dpkg-old'), 'x');
  await writeFile(join(root, 'etc/empty-file'), '');
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'bin/tool'), '#!/bin/sh\n');
  await chmod(join(root, 'bin/tool'), 0o755);
  await writeFile(join(root, 'bin/data'), 'not executable');
  await symlink('app', join(root, 'etc/app-link'));
  await symlink('missing', join(root, 'etc/dangling'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    machineId: MACHINE,
    hostname: 'Web1.example.com',
    metadata: {},
    architecture: 'x86-64',
    kernelCommandLine: 'quiet root=/dev/sda1 console="ttyS0,115200 n8" rd.debug',
    memoryBytes: 8 * 1024 ** 3,
    cpus: 4,
    environment: { LANG: 'C.UTF-8', EMPTY: '' },
    root,
    ...over,
  };
}

/** The refusal for a unit whose [Unit] section holds `lines`, offered as `name`. */
function refusal(lines: string, name = 'app.service', over: Partial<HostFacts> = {}): Promise<string | undefined> {
  return refusalReason(name, UnitFile.parse(`[Unit]\n${lines}\n\n[Service]\nExecStart=/bin/true\n`), host(over));
}

async function holds(lines: string, over: Partial<HostFacts> = {}): Promise<boolean> {
  return (await refusal(lines, 'app.service', over)) === undefined;
}

test('a unit without conditions is accepted', async () => {
  assert.equal(await refusal('Description=plain'), undefined);
});

test('path checks look under the host root and follow systemd per kind', async () => {
  assert.equal(await holds('ConditionPathExists=/dev/kvm'), true);
  assert.equal(await refusal('ConditionPathExists=/dev/nvidia0'), 'ConditionPathExists=/dev/nvidia0 failed');
  assert.equal(await holds('ConditionPathExists=/etc/dangling'), false, 'a dangling symlink does not exist');
  assert.equal(await holds('ConditionPathIsDirectory=/etc/app'), true);
  assert.equal(await holds('ConditionPathIsDirectory=/etc/app-link'), true, 'follows symlinks');
  assert.equal(await holds('ConditionPathIsDirectory=/dev/kvm'), false);
  assert.equal(await holds('ConditionPathIsSymbolicLink=/etc/app-link'), true);
  assert.equal(await holds('ConditionPathIsSymbolicLink=/etc/dangling'), true);
  assert.equal(await holds('ConditionPathIsSymbolicLink=/etc/app'), false);
  assert.equal(await holds('ConditionFileNotEmpty=/etc/app/app.conf'), true);
  assert.equal(await holds('ConditionFileNotEmpty=/etc/empty-file'), false);
  assert.equal(await holds('ConditionFileNotEmpty=/etc/app'), false, 'a directory is not a regular file');
  assert.equal(await holds('ConditionFileIsExecutable=/bin/tool'), true);
  assert.equal(await holds('ConditionFileIsExecutable=/bin/data'), false);
  assert.equal(await holds('ConditionFileIsExecutable=/bin'), false);
  assert.equal(await holds('ConditionDirectoryNotEmpty=/etc/app'), true);
  assert.equal(await holds('ConditionDirectoryNotEmpty=/etc/quiet'), false, 'hidden and backup files do not count');
  assert.equal(await holds('ConditionDirectoryNotEmpty=/etc/nothing'), false);
  assert.equal(await holds('ConditionDirectoryNotEmpty=/dev/kvm'), false);
});

test('paths: duplicate slashes are fine, relative paths are ignored (as systemd ignores the line), .. stays in the root', async () => {
  assert.equal(await holds('ConditionPathExists=//dev///kvm/'), true);
  assert.equal(await holds('ConditionPathExists=dev/nothing'), true);
  assert.equal(await holds('ConditionPathExists=/../../dev/kvm'), true);
});

test('! negates a line', async () => {
  assert.equal(await holds('ConditionPathExists=!/dev/kvm'), false);
  assert.equal(await refusal('ConditionPathExists=!/dev/kvm'), 'ConditionPathExists=!/dev/kvm failed');
  assert.equal(await holds('ConditionPathExists=!/dev/nvidia0'), true);
  assert.equal(await holds('ConditionHost=!web1.example.com'), false);
});

test('every non-triggering line must hold; the first failing one is named', async () => {
  assert.equal(await holds('ConditionPathExists=/dev/kvm\nConditionCPUs=>=2'), true);
  assert.equal(await refusal('ConditionPathExists=/dev/kvm\nConditionCPUs=>=8\nConditionMemory=64G'), 'ConditionCPUs=>=8 failed');
});

test('| triggering: at least one must hold, and all non-triggering ones too', async () => {
  assert.equal(await holds('ConditionPathExists=|/dev/nvidia0\nConditionPathExists=|/dev/kvm'), true);
  assert.equal(
    await refusal('ConditionPathExists=|/dev/nvidia0\nConditionPathExists=|/dev/dri'),
    'none of ConditionPathExists=|/dev/nvidia0, ConditionPathExists=|/dev/dri held',
  );
  assert.equal(await refusal('ConditionPathExists=|/dev/nvidia0'), 'ConditionPathExists=|/dev/nvidia0 failed');
  assert.equal(await refusal('ConditionPathExists=|/dev/kvm\nConditionCPUs=16'), 'ConditionCPUs=16 failed');
  assert.equal(await holds('ConditionPathExists=|!/dev/nvidia0\nConditionPathExists=|/dev/dri'), true);
});

test('an empty assignment resets the list: earlier failing lines no longer count', async () => {
  assert.equal(await holds('ConditionPathExists=/dev/nvidia0\nConditionHost=\nConditionPathExists=/dev/kvm'), true);
  assert.equal(await holds('ConditionPathExists=/dev/kvm\nConditionHost=\nConditionPathExists=/dev/nvidia0'), false);
  assert.equal(await holds('AssertPathExists=/dev/nvidia0\nConditionPathExists=\n'), false, 'an empty Condition does not reset asserts');
});

test('Assert lines refuse like conditions, named as written', async () => {
  assert.equal(await refusal('AssertPathExists=/dev/nvidia0'), 'AssertPathExists=/dev/nvidia0 failed');
  assert.equal(await refusal('AssertArchitecture=|arm64\nAssertArchitecture=|ppc64-le'), 'none of AssertArchitecture=|arm64, AssertArchitecture=|ppc64-le held');
  assert.equal(await holds('AssertArchitecture=|arm64\nAssertArchitecture=|x86-64'), true);
});

test('ConditionArchitecture: systemd names, native, unknown names never match', async () => {
  assert.equal(await holds('ConditionArchitecture=x86-64'), true);
  assert.equal(await holds('ConditionArchitecture=native'), true);
  assert.equal(await refusal('ConditionArchitecture=arm64'), 'ConditionArchitecture=arm64 failed');
  assert.equal(await holds('ConditionArchitecture=arm64', { architecture: 'arm64' }), true);
  assert.equal(await holds('ConditionArchitecture=x86_64'), false, "uname's spelling is not systemd's");
  assert.equal(await holds('ConditionArchitecture=!sparc'), true);
});

test('ConditionHost: hostname glob, case-insensitive, or the machine id (plain or UUID form)', async () => {
  assert.equal(await holds('ConditionHost=web1.example.com'), true);
  assert.equal(await holds('ConditionHost=WEB*'), true);
  assert.equal(await holds('ConditionHost=web[0-9].*'), true);
  assert.equal(await holds('ConditionHost=web[!1]*'), false);
  assert.equal(await holds('ConditionHost=db*'), false);
  assert.equal(await holds('ConditionHost=web1'), false, 'a glob must match the whole hostname');
  assert.equal(await holds(`ConditionHost=${MACHINE}`), true);
  assert.equal(await holds(`ConditionHost=${MACHINE.toUpperCase()}`), true);
  assert.equal(await holds('ConditionHost=01234567-89ab-cdef-0123-456789abcdef'), true);
  assert.equal(await holds(`ConditionHost=${'f'.repeat(32)}`), false);
});

test('ConditionHost with a "-" matches hostnames with one (it made every bid throw)', async () => {
  assert.equal(await holds('ConditionHost=web-1', { hostname: 'web-1' }), true);
  assert.equal(await holds('ConditionHost=web-*', { hostname: 'web-1.dc-2.example.net' }), true);
  assert.equal(await refusal('ConditionHost=db-1', 'app.service', { hostname: 'web-1' }), 'ConditionHost=db-1 failed');
});

test('ConditionHost: a machine id is compared with the machine id only, as systemd does', async () => {
  const other = 'f'.repeat(32);
  assert.equal(await holds(`ConditionHost=${other}`, { hostname: other }), false, 'not a hostname glob');
  assert.equal(await holds(`ConditionHost=${MACHINE}`, { hostname: 'anything' }), true);
});

test('a Condition value that specifiers make longer than its limit on this host is refused, not judged', async () => {
  const name = `app@${'x'.repeat(200)}.service`;
  const why = await refusal(`ConditionHost=${'%i'.repeat(2)}`, name);
  assert.match(why ?? '', /^over a limit: ConditionHost= is 400 characters; the limit is 256: shorten it \(specifiers expanded\)$/);
  assert.equal(await refusal('ConditionHost=%i', name), 'ConditionHost=%i failed');
});

test('a unit over a limit is refused by the host (an engine of another version might offer it)', async () => {
  const lines = Array.from({ length: 65 }, (_, i) => `ConditionPathExists=|/dev/x${i}`).join('\n');
  assert.equal(await refusal(lines), 'over a limit: [Unit] has 65 Condition/Assert lines; the limit is 64: move the checks into an ExecCondition= script');
});

test('ConditionKernelCommandLine: a word matches as is or as an assignment key; key=value must match exactly', async () => {
  assert.equal(await holds('ConditionKernelCommandLine=quiet'), true);
  assert.equal(await holds('ConditionKernelCommandLine=root'), true);
  assert.equal(await holds('ConditionKernelCommandLine=root=/dev/sda1'), true);
  assert.equal(await holds('ConditionKernelCommandLine=root=/dev/sda2'), false);
  assert.equal(await holds('ConditionKernelCommandLine=roo'), false);
  assert.equal(await holds('ConditionKernelCommandLine=rd'), false);
  assert.equal(await holds('ConditionKernelCommandLine=console=ttyS0,115200 n8'), true, 'quotes are removed, what they quote stays one word');
  assert.equal(await holds('ConditionKernelCommandLine=!debug'), true);
});

test('ConditionMemory: bytes with IEC suffixes, default >=, every operator', async () => {
  const gib8 = { memoryBytes: 8 * 1024 ** 3 };
  for (const [expr, ok] of [
    ['4G', true], ['8G', true], ['9G', false], ['>=8192M', true], ['>8G', false], ['<9G', true], ['<=8G', true],
    ['=8G', true], ['==8G', true], ['!=8G', false], ['<>8G', false], ['8589934592', true], ['7.5G', true], ['8.5G', false],
    ['7G 1024M', true], ['8G 1K', false], ['>= 8G', true],
  ] as const) {
    assert.equal(await holds(`ConditionMemory=${expr}`, gib8), ok, `ConditionMemory=${expr}`);
  }
});

test('ConditionMemory and ConditionCPUs that do not parse fail, even negated (systemd: assuming failed)', async () => {
  assert.equal(await refusal('ConditionMemory=lots'), 'ConditionMemory=lots failed');
  assert.equal(await holds('ConditionMemory=!lots'), false);
  assert.equal(await holds('ConditionMemory=1X'), false);
  assert.equal(await holds('ConditionMemory=1K 1G'), false, 'suffixes must decrease');
  assert.equal(await holds('ConditionCPUs=four'), false);
  assert.equal(await holds('ConditionCPUs=!-1'), false);
});

test('ConditionCPUs: count with operators, default >=', async () => {
  for (const [expr, ok] of [['4', true], ['5', false], ['>2', true], ['<4', false], ['<=4', true], ['=4', true], ['!=4', false], ['0x4', true]] as const) {
    assert.equal(await holds(`ConditionCPUs=${expr}`), ok, `ConditionCPUs=${expr}`);
  }
});

test('ConditionEnvironment: NAME is set (even empty), or NAME=value exactly', async () => {
  assert.equal(await holds('ConditionEnvironment=LANG'), true);
  assert.equal(await holds('ConditionEnvironment=EMPTY'), true);
  assert.equal(await holds('ConditionEnvironment=EMPTY='), true);
  assert.equal(await holds('ConditionEnvironment=LANG=C.UTF-8'), true);
  assert.equal(await holds('ConditionEnvironment=LANG=C'), false);
  assert.equal(await holds('ConditionEnvironment=LAN'), false);
  assert.equal(await holds('ConditionEnvironment=!DISPLAY'), true);
});

test('checks only systemd can judge are left to systemd: never a refusal, even negated or alone among triggers', async () => {
  assert.equal(await holds('ConditionSecurity=selinux'), true);
  assert.equal(await holds('ConditionSecurity=!selinux'), true);
  assert.equal(await holds('ConditionNeedsUpdate=/etc\nConditionVirtualization=container'), true);
  assert.equal(await holds('ConditionPathExists=|/dev/nvidia0\nConditionFirstBoot=|yes'), true);
  assert.equal(await refusal('ConditionSecurity=selinux\nConditionPathExists=/dev/nvidia0'), 'ConditionPathExists=/dev/nvidia0 failed');
});

test('systemd specifiers in conditions expand with the offered name and the host', async () => {
  await writeFile(join(root, 'etc/app/blue.conf'), 'x');
  const unit = 'ConditionPathExists=/etc/app/%i.conf';
  assert.equal(await refusal(unit, 'app@blue.service'), undefined);
  assert.equal(await refusal(unit, 'app@green.service'), 'ConditionPathExists=/etc/app/%i.conf failed');
  assert.equal(await refusal('ConditionPathExists=/etc/%p/app.conf', 'app@x.service'), undefined);
  assert.equal(await refusal('ConditionHost=%i*', 'app@web.service'), undefined);
  assert.equal(await refusal('ConditionHost=%i', 'app@db.service'), 'ConditionHost=%i failed');
  assert.equal(await refusal('ConditionHost=%H'), undefined);
  assert.equal(await refusal('ConditionHost=%m'), undefined);
  assert.equal(await refusal('ConditionPathExists=/dev/%%kvm'), 'ConditionPathExists=/dev/%%kvm failed');
  // %I unescapes: "-" is "/".
  assert.equal(await refusal('ConditionPathExists=/%I', 'app@etc-app-app.conf.service'), undefined);
});

test('specifiers: one only the service manager knows defers to systemd; an unknown one makes systemd drop the line', async () => {
  assert.equal(await refusal('ConditionPathExists=%t/nothing'), undefined);
  assert.equal(await refusal('ConditionPathExists=/nothing/%Z'), undefined);
  assert.equal(await refusal('ConditionPathExists=/nothing/%Z\nConditionPathExists=|/nowhere'), 'ConditionPathExists=|/nowhere failed');
});
