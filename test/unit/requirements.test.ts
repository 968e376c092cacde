import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  UnitFile,
  parseRequirements,
  validateRequirements,
  validateUnit,
  parseMultivalueLine,
  type UnitRequirements,
} from '../../src/unit/index.js';
import { InvalidInputError } from '../../src/util/errors.js';

function req(xfleet: string, name = 'test.service'): { requirements: UnitRequirements; warnings: string[] } {
  return parseRequirements(UnitFile.parse(`[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${xfleet}\n`), name);
}

function base(over: Partial<UnitRequirements> = {}): UnitRequirements {
  return { machineOf: [], machineMetadata: {}, conflicts: [], replaces: [], global: false, onDisconnect: 'keep', ...over };
}

test('no [X-Fleet] section: empty requirements, no machineId key, no warnings', () => {
  const parsed = parseRequirements(UnitFile.parse('[Service]\nExecStart=/bin/true\n'), 'a.service');
  assert.deepEqual(parsed, { requirements: base(), warnings: [] });
  assert.equal(Object.hasOwn(parsed.requirements, 'machineId'), false);
});

test('parseMultivalueLine: quoted words split, quotes dropped, inner spaces kept', () => {
  assert.deepEqual(parseMultivalueLine('"a=b" "c=d"'), ['a=b', 'c=d']);
  assert.deepEqual(parseMultivalueLine('"a b.service" "c.service"'), ['a b.service', 'c.service']);
  assert.deepEqual(parseMultivalueLine('a=b c=d'), ['a=b c=d']);
  assert.deepEqual(parseMultivalueLine('"a=b'), ['"a=b']);
  assert.deepEqual(parseMultivalueLine('a "b"'), ['a "b"']);
  assert.deepEqual(parseMultivalueLine('""'), ['']);
  // fleet splits on each single space, so a double space yields an empty item
  assert.deepEqual(parseMultivalueLine('"a"  "b"'), ['a', '', 'b']);
});

test('MachineID: first value; falls back to X-ConditionMachineID then X-ConditionMachineBootID', () => {
  assert.equal(req('MachineID=aaa\nMachineID=bbb\nX-ConditionMachineID=ccc').requirements.machineId, 'aaa');
  assert.equal(req('X-ConditionMachineBootID=ddd\nX-ConditionMachineID=ccc').requirements.machineId, 'ccc');
  assert.equal(req('X-ConditionMachineBootID=ddd').requirements.machineId, 'ddd');
  assert.equal(req('MachineID="eee" "fff"').requirements.machineId, 'eee');
  assert.deepEqual(req('MachineID=aaa').warnings, []);
});

test('an empty MachineID is no requirement', () => {
  assert.equal(Object.hasOwn(req('MachineID=').requirements, 'machineId'), false);
  assert.equal(req('MachineID=\nX-ConditionMachineID=ccc').requirements.machineId, 'ccc');
});

test('MachineOf: MachineOf then X-ConditionMachineOf, multiple lines and quoted words', () => {
  const { requirements, warnings } = req(
    'MachineOf=a.service\nX-ConditionMachineOf=b.service\nMachineOf="c.service" "d.service"\nMachineOf=e.service f.service',
  );
  assert.deepEqual(requirements.machineOf, ['a.service', 'c.service', 'd.service', 'e.service f.service', 'b.service']);
  assert.deepEqual(warnings, []);
});

test('MachineMetadata: AND across keys, OR within, malformed items ignored', () => {
  const { requirements } = req([
    'MachineMetadata="region=us-east" "disk=ssd"',
    'MachineMetadata=region=us-west',
    'X-ConditionMachineMetadata=disk=hdd',
    'MachineMetadata=region=us-east',
    'MachineMetadata=a=b=c',
    'MachineMetadata==x',
    'MachineMetadata=k=',
    'MachineMetadata=novalue',
    'MachineMetadata=two words=x y',
  ].join('\n'));
  assert.deepEqual(requirements.machineMetadata, {
    region: ['us-east', 'us-west'],
    disk: ['ssd', 'hdd'],
    'two words': ['x y'],
  });
});

test('MachineMetadata: a "__proto__" key is plain data', () => {
  const md = req('MachineMetadata=__proto__=x').requirements.machineMetadata;
  assert.deepEqual(Object.keys(md), ['__proto__']);
  assert.deepEqual(md['__proto__'], ['x']);
  assert.equal(Object.getPrototypeOf(md), Object.prototype);
});

test('Conflicts + X-Conflicts are whitespace-split into globs', () => {
  const { requirements, warnings } = req('Conflicts=foo* bar?.service\nX-Conflicts=baz.service\nConflicts="q.service  r.service" "s*"\nConflicts=\tt.service\t');
  assert.deepEqual(requirements.conflicts, ['foo*', 'bar?.service', 'q.service', 'r.service', 's*', 't.service', 'baz.service']);
  assert.deepEqual(warnings, []);
});

test('Replaces values are not whitespace-split', () => {
  assert.deepEqual(req('Replaces=a.service b.service').requirements.replaces, ['a.service b.service']);
  assert.deepEqual(req('Replaces="a.service" "b*.service"\nReplaces=c.service').requirements.replaces, ['a.service', 'b*.service', 'c.service']);
});

test('Global truthiness: true/yes/1/on/t, case-insensitive', () => {
  for (const v of ['true', 'yes', '1', 'on', 't', 'TRUE', 'Yes', 'On', 'T', '"true"']) {
    assert.equal(req(`Global=${v}`).requirements.global, true, v);
  }
  for (const v of ['false', 'no', '0', 'off', 'f', '', 'y', 'enabled', '2', ' true x']) {
    assert.equal(req(`Global=${v}`).requirements.global, false, JSON.stringify(v));
  }
});

test('Global: the last value wins', () => {
  assert.equal(req('Global=true\nGlobal=false').requirements.global, false);
  assert.equal(req('Global=false\nGlobal=yes').requirements.global, true);
  assert.equal(req('Global=true\nGlobal=').requirements.global, false);
  assert.equal(req('Global="false" "on"').requirements.global, true);
});

test('specifiers %n %N %p %i expand in [X-Fleet] values only', () => {
  const unit = UnitFile.parse([
    '[Service]',
    'ExecStart=/bin/echo %i %n',
    '[X-Fleet]',
    'MachineOf=%p-sidekick@%i.service',
    'Conflicts=%N-* %n',
    'MachineMetadata="port=%i" "unit=%p"',
    'Replaces=old-%p@%i.service',
    'MachineID=%i',
  ].join('\n'));
  const { requirements } = parseRequirements(unit, 'web@8080.service');
  assert.deepEqual(requirements, {
    machineId: '8080',
    machineOf: ['web-sidekick@8080.service'],
    machineMetadata: { port: ['8080'], unit: ['web'] },
    conflicts: ['web@8080-*', 'web@8080.service'],
    replaces: ['old-web@8080.service'],
    global: false,
    onDisconnect: 'keep',
  });
  assert.deepEqual(unit.values('Service', 'ExecStart'), ['/bin/echo %i %n']);
});

test('specifiers on a plain unit: %i is empty, %p is the name', () => {
  assert.deepEqual(req('MachineOf=%p-%i.service', 'db.service').requirements.machineOf, ['db-.service']);
});

test('other specifiers and "%%" are left alone', () => {
  assert.deepEqual(req('MachineOf=%H-%m-%%i.service', 'a@b.service').requirements.machineOf, ['%H-%m-%b.service']);
});

test('without a unit name, specifiers are left as written and warnings have no prefix', () => {
  const { requirements, warnings } = req('MachineOf=%p.service\nWeight=3', '');
  assert.deepEqual(requirements.machineOf, ['%p.service']);
  assert.deepEqual(warnings, ['unrecognized requirement in [X-Fleet] section: "Weight"']);
});

test('unknown [X-Fleet] keys produce one warning each, in order; deprecated keys are known', () => {
  const { warnings } = req([
    'Weight=3', 'X-ConditionMachineID=a', 'X-ConditionMachineBootID=b', 'X-ConditionMachineOf=c.service',
    'X-ConditionMachineMetadata=k=v', 'X-Conflicts=d*', 'Foo=bar', 'Weight=4', 'machineid=lower',
  ].join('\n'), 'hello.service');
  assert.deepEqual(warnings, [
    'Unit hello.service: unrecognized requirement in [X-Fleet] section: "Weight"',
    'Unit hello.service: unrecognized requirement in [X-Fleet] section: "Foo"',
    'Unit hello.service: unrecognized requirement in [X-Fleet] section: "machineid"',
  ]);
});

test('keys outside [X-Fleet] are not requirements', () => {
  const parsed = parseRequirements(UnitFile.parse('[Unit]\nConflicts=x.service\n[Service]\nGlobal=true\n'), 'a.service');
  assert.deepEqual(parsed, { requirements: base(), warnings: [] });
});

// --- validateRequirements: fleet's exact messages ---

function rejects(r: Partial<UnitRequirements>, message: string): void {
  assert.throws(() => validateRequirements(base(r)), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.message, message);
    return true;
  });
}

test('peer matched by a Conflicts glob', () => {
  rejects({ machineOf: ['db.service'], conflicts: ['web*', 'db*'] }, 'unresolvable requirements: peer "db.service" matches conflict "db*"');
});

test('peer matched by a Replaces glob', () => {
  rejects({ machineOf: ['db.service'], replaces: ['d?.service'] }, 'unresolvable requirements: peer "db.service" matches replace "d?.service"');
});

test('forbidden combinations', () => {
  rejects({ machineId: 'm1', machineOf: ['a.service'] }, 'MachineID cannot be used with Peers');
  rejects({ machineId: 'm1', conflicts: ['a*'] }, 'MachineID cannot be used with Conflicts');
  rejects({ machineId: 'm1', global: true }, 'MachineID cannot be used with Global');
  rejects({ machineId: 'm1', replaces: ['a*'] }, 'MachineID cannot be used with Replaces');
  rejects({ global: true, machineOf: ['a.service'] }, 'Global cannot be used with Peers');
  rejects({ global: true, replaces: ['a*'] }, 'Global cannot be used with Replaces');
  rejects({ conflicts: ['a*'], replaces: ['b*'] }, 'Conflicts cannot be used with Replaces');
});

test('first violation wins, peer/conflict checks before combinations', () => {
  rejects({ machineId: 'm1', machineOf: ['a.service'], global: true, replaces: ['x'] }, 'MachineID cannot be used with Peers');
  rejects({ machineId: 'm1', machineOf: ['a.service'], conflicts: ['a*'] }, 'unresolvable requirements: peer "a.service" matches conflict "a*"');
  rejects({ machineOf: ['a.service'], conflicts: ['a*'], replaces: ['a*'] }, 'unresolvable requirements: peer "a.service" matches conflict "a*"');
  rejects({ global: true, machineOf: ['a.service'], replaces: ['b*'] }, 'Global cannot be used with Peers');
});

test('allowed combinations', () => {
  const allowed: Array<Partial<UnitRequirements>> = [
    {},
    { global: true, machineMetadata: { region: ['us'] } },
    { global: true, conflicts: ['a*'] },
    { machineId: 'm1', machineMetadata: { region: ['us'] } },
    { machineOf: ['a.service'], machineMetadata: { region: ['us'] } },
    { machineOf: ['a.service'], conflicts: ['b*'] },
    { machineOf: ['a.service'], replaces: ['b*'] },
    { machineOf: ['a.service'], conflicts: ['[bad'] },
  ];
  for (const r of allowed) assert.doesNotThrow(() => validateRequirements(base(r)), JSON.stringify(r));
});

test('validateUnit: name, round trip and requirements in one call', () => {
  const unit = UnitFile.parse('[Service]\nExecStart=/bin/true\n[X-Fleet]\nGlobal=true\nMachineOf=a.service\n');
  assert.throws(() => validateUnit(unit, 'a.service'), { message: 'Global cannot be used with Peers' });
  assert.throws(() => validateUnit(unit, 'bad name'), { message: 'invalid unit name "bad name": unit name must contain "."' });
  const ok = validateUnit(UnitFile.parse('[Service]\nExecStart=/bin/true\n[X-Fleet]\nConflicts=%p@*\nWeight=1\n'), 'web@1.service');
  assert.deepEqual(ok, {
    requirements: base({ conflicts: ['web@*'] }),
    warnings: ['Unit web@1.service: unrecognized requirement in [X-Fleet] section: "Weight"'],
  });
});

test('OnDisconnect: keep by default, stop when asked, anything else refused naming the value', () => {
  assert.equal(req('').requirements.onDisconnect, 'keep');
  assert.equal(req('OnDisconnect=stop').requirements.onDisconnect, 'stop');
  assert.equal(req('OnDisconnect=stop\nOnDisconnect=keep').requirements.onDisconnect, 'keep');
  assert.throws(() => req('OnDisconnect=maybe'), (err: unknown) => err instanceof InvalidInputError && /OnDisconnect=maybe is invalid/.test(err.message));
});
