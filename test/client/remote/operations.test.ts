/** status, journal and ssh decisions, with a runner that records instead of connecting. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { operationContext } from '../../../src/client/operations/context.js';
import { type CommandRunner, journalUnit, sshTarget, statusUnits } from '../../../src/client/operations/remote.js';
import type { RemoteIO } from '../../../src/client/remote/ssh.js';
import type { MachineSummary } from '../../../src/client/types.js';
import { FlotillaError } from '../../../src/util/errors.js';
import { MemoryClient, MemorySink } from '../support/memory-client.js';

const M1 = '1'.repeat(32);
const M2 = '2'.repeat(32);
const M3 = '3'.repeat(32);
const SLEEP = '[Service]\nExecStart=/bin/sleep infinity\n';
const GLOBAL = `${SLEEP}\n[X-Fleet]\nGlobal=true\n`;

class RecordingRunner implements CommandRunner {
  readonly calls: Array<{ machine: string; command: string | undefined }> = [];
  constructor(private readonly reply: (m: MachineSummary) => { code: number; out: string; delayMs?: number } = () => ({ code: 0, out: '' })) {}
  async run(machine: MachineSummary, command: string | undefined, io: RemoteIO): Promise<number> {
    this.calls.push({ machine: machine.id, command });
    const r = this.reply(machine);
    if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
    io.stdout(r.out);
    return r.code;
  }
}

function setup() {
  const client = new MemoryClient();
  client.machines = [
    { id: M1, publicIP: '10.0.0.1', metadata: {}, sshPort: 22, systemdScope: 'system' },
    { id: M2, publicIP: '10.0.0.2', metadata: {}, sshPort: 2222, systemdScope: 'user' },
    { id: M3, publicIP: '10.0.0.3', metadata: {}, sshPort: 22, systemdScope: 'system' },
  ];
  const ctx = operationContext(client, new MemorySink());
  let out = '';
  const io: RemoteIO = { stdout: (t) => (out += t), stderr: () => undefined };
  return { client, ctx, io, out: () => out };
}

describe('status', () => {
  it('runs systemctl status -l on the machine of the unit, in that machine\'s scope', async () => {
    const { client, ctx, io } = setup();
    client.seed('a.service', SLEEP, 'launched');
    client.assign('a.service', M2);
    client.publish('a.service', M2, { applied: 'launched', active: 'active' });
    const runner = new RecordingRunner(() => ({ code: 0, out: 'ok\n' }));
    assert.equal(await statusUnits(ctx, runner, io, ['a']), 0);
    assert.deepEqual(runner.calls, [{ machine: M2, command: 'systemctl --user status -l -- a.service' }]);
  });

  it('a global unit: every machine reporting it, blocks in machine order whatever order they answer in', async () => {
    const { client, ctx, io, out } = setup();
    client.seed('g.service', GLOBAL, 'launched');
    for (const m of [M3, M1]) client.publish('g.service', m, { applied: 'launched', active: 'active' });
    const runner = new RecordingRunner((m) => ({ code: m.id === M3 ? 3 : 0, out: `from ${m.publicIP}\n`, delayMs: m.id === M1 ? 30 : 0 }));
    assert.equal(await statusUnits(ctx, runner, io, ['g.service']), 3);
    assert.equal(out(), `Machine 11111111.../10.0.0.1:\nfrom 10.0.0.1\n\nMachine 33333333.../10.0.0.3:\nfrom 10.0.0.3\n`);
  });

  it("a global unit: flotctl's own lines (headers, a machine's failure) go to io.own, the remote output as it came", async () => {
    const { client, ctx } = setup();
    client.machines = [{ id: M1, publicIP: '10.0.0.1\u001b[2J', metadata: {}, sshPort: 22, systemdScope: 'system' }, ...client.machines.slice(1)];
    client.seed('g.service', GLOBAL, 'launched');
    for (const m of [M1, M3]) client.publish('g.service', m, { applied: 'launched', active: 'active' });
    const seen: string[] = [];
    const io: RemoteIO = {
      stdout: (t) => seen.push(`raw:${t}`),
      stderr: (t) => seen.push(`rawerr:${t}`),
      own: { out: (l) => seen.push(`own:${l}`), err: (l) => seen.push(`ownerr:${l}`) },
    };
    const runner: CommandRunner = {
      run: async (m, _c, rio) => {
        if (m.id === M3) throw new FlotillaError('unable to SSH: no');
        rio.stdout('\u001b[1mremote\n');
        return 0;
      },
    };
    assert.equal(await statusUnits(ctx, runner, io, ['g.service']), 1);
    assert.deepEqual(seen, ['own:Machine 11111111.../10.0.0.1\u001b[2J:', 'raw:\u001b[1mremote\n', 'own:\nMachine 33333333.../10.0.0.3:', 'ownerr:unable to SSH: no']);
  });

  it('stops at the first unit whose status is not 0 and returns that status', async () => {
    const { client, ctx, io } = setup();
    for (const n of ['a.service', 'b.service']) {
      client.seed(n, SLEEP, 'launched');
      client.assign(n, M1);
      client.publish(n, M1, { applied: 'launched' });
    }
    const runner = new RecordingRunner(() => ({ code: 3, out: '' }));
    assert.equal(await statusUnits(ctx, runner, io, ['a.service', 'b.service']), 3);
    assert.equal(runner.calls.length, 1);
  });

  it("fleet's messages: missing, not loaded; and an unplaced unit points at why", async () => {
    const { client, ctx, io } = setup();
    const runner = new RecordingRunner();
    await assert.rejects(statusUnits(ctx, runner, io, ['x']), { message: 'Unit x.service does not exist.' });
    client.seed('idle.service', SLEEP);
    await assert.rejects(statusUnits(ctx, runner, io, ['idle.service']), { message: 'Unit idle.service does not appear to be loaded.' });
    client.seed('stuck.service', SLEEP, 'launched');
    client.reportUnplaced('stuck.service', { [M1]: 'conflicts with a.service' });
    await assert.rejects(statusUnits(ctx, runner, io, ['stuck.service']), /not placed on any machine: run 'flotctl why stuck.service'/);
    client.seed('g.service', GLOBAL, 'launched');
    await assert.rejects(statusUnits(ctx, runner, io, ['g.service']), /Global unit g.service does not run on any machine/);
    assert.equal(runner.calls.length, 0);
  });
});

describe('journal', () => {
  it("runs fleet's journalctl line on the unit's machine", async () => {
    const { client, ctx, io } = setup();
    client.seed('a.service', SLEEP, 'launched');
    client.assign('a.service', M1);
    client.publish('a.service', M1, { applied: 'launched' });
    const runner = new RecordingRunner();
    await journalUnit(ctx, runner, io, ['a'], { lines: 3, follow: true, output: 'cat', sudo: false });
    assert.deepEqual(runner.calls, [{ machine: M1, command: 'journalctl --unit a.service --no-pager -n 3 --output cat -f' }]);
  });

  it('refuses what it cannot show', async () => {
    const { client, ctx, io } = setup();
    const runner = new RecordingRunner();
    const o = { lines: 10, follow: false, output: 'short', sudo: false };
    await assert.rejects(journalUnit(ctx, runner, io, [], o), { message: 'One unit file must be provided.' });
    client.seed('idle.service', SLEEP);
    await assert.rejects(journalUnit(ctx, runner, io, ['idle.service'], o), { message: 'Unit idle.service does not appear to be running.' });
    client.seed('g.service', GLOBAL, 'launched');
    await assert.rejects(journalUnit(ctx, runner, io, ['g.service'], o), /Unable to retrieve journal of global unit g.service/);
  });
});

describe('ssh target', () => {
  it('a machine id prefix, or the machine of a unit', async () => {
    const { client, ctx } = setup();
    client.seed('a.service', SLEEP, 'launched');
    client.assign('a.service', M3);
    assert.equal((await sshTarget(ctx, '2222', { machine: false, unit: false })).id, M2);
    assert.equal((await sshTarget(ctx, 'a.service', { machine: false, unit: false })).id, M3);
    assert.equal((await sshTarget(ctx, 'a', { machine: false, unit: true })).id, M3);
  });

  it("fleet's refusals: ambiguity, global units, nothing found", async () => {
    const { client, ctx } = setup();
    client.machines.push({ id: `1${'f'.repeat(31)}`, publicIP: '10.0.0.9', metadata: {}, sshPort: 22, systemdScope: 'system' });
    await assert.rejects(sshTarget(ctx, '1', { machine: false, unit: false }), /found more than one machine starting with 1/);
    client.seed('3333.service', SLEEP, 'launched');
    client.assign('3333.service', M1);
    await assert.rejects(sshTarget(ctx, '3333', { machine: false, unit: false }), /ambiguous argument, both machine and unit found/);
    assert.equal((await sshTarget(ctx, '3333', { machine: true, unit: false })).id, M3);
    assert.equal((await sshTarget(ctx, '3333', { machine: false, unit: true })).id, M1);
    client.seed('g.service', GLOBAL, 'launched');
    await assert.rejects(sshTarget(ctx, 'g.service', { machine: false, unit: false }), /g.service is a global unit/);
    await assert.rejects(sshTarget(ctx, 'nothing', { machine: true, unit: false }), /could not find a matching machine for nothing/);
  });
});
