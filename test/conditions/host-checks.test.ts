/** MachineMetadata against a host's effective metadata, and how it combines with conditions (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnitFile } from '../../src/unit/index.js';
import { metadataRefusal, refusalReason } from '../../src/conditions/host-checks.js';
import type { HostFacts } from '../../src/conditions/host-facts.js';

function host(metadata: Record<string, string>): HostFacts {
  return {
    machineId: 'a'.repeat(32),
    hostname: 'h',
    metadata,
    architecture: 'x86-64',
    kernelCommandLine: '',
    memoryBytes: 1024 ** 3,
    cpus: 1,
    environment: {},
    root: '/nonexistent-flotilla-root',
  };
}

function unit(xfleet: string, unitSection = ''): UnitFile {
  return UnitFile.parse(`[Unit]\nDescription=x\n${unitSection}\n\n[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${xfleet}\n`);
}

test('metadata: every key must match (AND), any listed value of a key will do (OR)', () => {
  const have = { region: 'us', disk: 'ssd' };
  assert.equal(metadataRefusal({}, have), undefined);
  assert.equal(metadataRefusal({ region: ['us'] }, have), undefined);
  assert.equal(metadataRefusal({ region: ['eu', 'us'] }, have), undefined);
  assert.equal(metadataRefusal({ region: ['us'], disk: ['ssd'] }, have), undefined);
  assert.equal(metadataRefusal({ region: ['eu'] }, have), 'MachineMetadata requires region=eu; machine has region=us');
  assert.equal(metadataRefusal({ region: ['eu', 'ap'] }, have), 'MachineMetadata requires region=eu or region=ap; machine has region=us');
  assert.equal(metadataRefusal({ region: ['us'], disk: ['hdd'] }, have), 'MachineMetadata requires disk=hdd; machine has disk=ssd');
  assert.equal(metadataRefusal({ gpu: ['yes'] }, have), 'MachineMetadata requires gpu=yes; machine has no gpu');
  assert.equal(metadataRefusal({ toString: ['x'] }, have), 'MachineMetadata requires toString=x; machine has no toString');
});

test('refusalReason reads MachineMetadata from [X-Fleet], all lines and quoted lists', async () => {
  const h = host({ region: 'us', disk: 'ssd' });
  assert.equal(await refusalReason('a.service', unit('MachineMetadata=region=us'), h), undefined);
  assert.equal(await refusalReason('a.service', unit('MachineMetadata="region=eu" "region=us"\nMachineMetadata=disk=ssd'), h), undefined);
  assert.equal(await refusalReason('a.service', unit('MachineMetadata=region=us\nX-ConditionMachineMetadata=disk=hdd'), h), 'MachineMetadata requires disk=hdd; machine has disk=ssd');
});

test('template instances: [X-Fleet] specifiers expand with the offered name, so web@host2 lands only on host2', async () => {
  const template = unit('MachineMetadata=hostname=%i');
  const host1 = host({ hostname: 'host1' });
  const host2 = host({ hostname: 'host2' });
  assert.equal(await refusalReason('web@host2.service', template, host2), undefined);
  assert.equal(await refusalReason('web@host2.service', template, host1), 'MachineMetadata requires hostname=host2; machine has hostname=host1');
  assert.equal(await refusalReason('web@host1.service', template, host1), undefined);
  assert.equal(await refusalReason('web@host1.service', unit('MachineMetadata=role=%p'), host({ role: 'web' })), undefined);
});

test('metadata is checked before conditions; both must pass', async () => {
  const h = host({ region: 'us' });
  const both = unit('MachineMetadata=region=eu', 'ConditionPathExists=/dev/kvm');
  assert.equal(await refusalReason('a.service', both, h), 'MachineMetadata requires region=eu; machine has region=us');
  const condOnly = unit('MachineMetadata=region=us', 'ConditionPathExists=/dev/kvm');
  assert.equal(await refusalReason('a.service', condOnly, h), 'ConditionPathExists=/dev/kvm failed');
});
