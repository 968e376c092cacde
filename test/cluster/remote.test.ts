/**
 * status, journal and ssh against a real 3-host cluster whose hosts each run
 * a real sshd: every answer is checked against the hosts' own systemd (the
 * MainPID systemctl status prints must be that host's), and every way SSH
 * can be refused ends in one line and exit 255.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import ssh2 from 'ssh2';
import { shellQuote } from '../../src/client/remote/commands.js';
import { FLOTCTL } from '../cli/support/run.js';
import { LocalCluster } from '../../src/dev/cluster.js';
import { waitFor } from '../../src/util/deadline.js';
import { flotctl } from '../support/flotctl.js';
import { hostUnit, hostsRunning } from '../support/hosts.js';

let cluster: LocalCluster;
let env: Record<string, string>;
let work: string;

before(async () => {
  cluster = await LocalCluster.start({ dir: await mkdtemp('/tmp/fl-remote-'), hosts: 3, ttlSeconds: 3 });
  env = cluster.flotctlEnv();
  work = await mkdtemp('/tmp/fl-remote-units-');
  await writeFile(join(work, 'solo.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
  await writeFile(join(work, 'everywhere.service'), '[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nGlobal=true\n');
  const r = await flotctl(env, ['start', 'solo.service', 'everywhere.service'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  await waitFor('the global unit on every host', async () => ((await hostsRunning(cluster, 'everywhere.service')).length === 3 ? true : undefined), { timeoutMs: 15_000 });
});

after(async () => {
  await cluster?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

function line(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `expected one line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'stack trace printed');
}

test('status runs systemctl status on the host that runs the unit', async () => {
  const [host] = await hostsRunning(cluster, 'solo.service');
  assert.ok(host !== undefined);
  const pid = (await hostUnit(cluster, host, 'solo.service')).mainPid;
  const r = await flotctl(env, ['status', 'solo.service']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Active: active \(running\)/);
  assert.match(r.stdout, new RegExp(`Main PID: ${pid}\\b`));
});

test('status of a global unit runs on every host, one block each, in machine order', async () => {
  const r = await flotctl(env, ['status', 'everywhere.service']);
  assert.equal(r.code, 0, r.stderr);
  const byMachine = [...cluster.hosts].sort((a, b) => a.machineId.localeCompare(b.machineId));
  const blocks = r.stdout.split(/^Machine /m).slice(1);
  assert.equal(blocks.length, 3, r.stdout);
  for (const [i, h] of byMachine.entries()) {
    const block = blocks[i] as string;
    assert.ok(block.startsWith(`${h.machineId.slice(0, 8)}.../${h.publicIP}:`), block);
    const pid = (await hostUnit(cluster, h.index, 'everywhere.service')).mainPid;
    assert.match(block, new RegExp(`Main PID: ${pid}\\b`));
  }
});

test('status passes on the remote exit status and stops at the first unit that fails', async () => {
  await writeFile(join(work, 'idle.service'), '[Service]\nExecStart=/bin/sleep infinity\n');
  assert.equal((await flotctl(env, ['load', 'idle.service'], { cwd: work })).code, 0);
  const r = await flotctl(env, ['status', 'idle.service', 'solo.service']);
  assert.equal(r.code, 3, 'systemctl status of a loaded, inactive unit exits 3');
  assert.match(r.stdout, /idle\.service/);
  assert.doesNotMatch(r.stdout, /solo\.service/);
});

test("fleet's messages for units status and journal cannot act on", async () => {
  const missing = await flotctl(env, ['status', 'nope.service']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Unit nope.service does not exist.');
  const global = await flotctl(env, ['journal', 'everywhere.service']);
  assert.equal(global.code, 1);
  assert.match(global.stderr, /^Unable to retrieve journal of global unit everywhere\.service/);
  line(global.stderr);
  const two = await flotctl(env, ['journal', 'a.service', 'b.service']);
  assert.equal(two.code, 1);
  assert.equal(two.stderr.trim(), 'One unit file must be provided.');
});

test('journal runs journalctl for the unit on its host', async () => {
  // No journald runs on the dev hosts (test-cluster-notes), so journalctl finds no entries;
  // this shows the remote journalctl accepted what flotctl sent. The exact command line
  // (--user-unit on these hosts) is checked in test/client/remote.
  const r = await flotctl(env, ['journal', '--lines', '5', 'solo.service']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No entries/);
});

test('ssh runs a command on the host of a unit, or of a machine id prefix, and returns its status', async () => {
  const [host] = await hostsRunning(cluster, 'solo.service');
  const h = cluster.hosts[host as number];
  assert.ok(h);
  const viaUnit = await flotctl(env, ['ssh', 'solo.service', '--', 'echo $HOME; exit 7']);
  assert.equal(viaUnit.code, 7, viaUnit.stderr);
  assert.equal(viaUnit.stdout.trim(), h.env.HOME);
  const other = cluster.hosts.find((x) => x.index !== host);
  assert.ok(other);
  const viaMachine = await flotctl(env, ['ssh', other.machineId.slice(0, 12), '--', 'systemctl', '--user', 'show', '-p', 'MainPID', '--value', 'everywhere.service']);
  assert.equal(viaMachine.code, 0, viaMachine.stderr);
  assert.equal(Number(viaMachine.stdout.trim()), (await hostUnit(cluster, other.index, 'everywhere.service')).mainPid);
});

test('ssh without a command runs a shell fed from stdin', async () => {
  const h = cluster.hosts[0];
  assert.ok(h);
  const r = await flotctl(env, ['ssh', '--machine', h.machineId, '--forward-agent'], { input: 'echo shell-on $HOME\nexit 4\n' });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stdout, new RegExp(`shell-on ${h.env.HOME}`));
  assert.match(r.stderr, /^Warning: --forward-agent needs a running ssh-agent/, 'no agent runs here: say so rather than ignore -A');
});

test('ssh on a terminal gets a remote PTY and raw local input (run under script(1))', async () => {
  const h = cluster.hosts[1];
  assert.ok(h);
  const command = [process.execPath, FLOTCTL, 'ssh', '-m', h.machineId].map(shellQuote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin.end('tty\nexit 5\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 5, out);
  assert.match(out, /\/dev\/pts\/\d+/, 'the remote shell has a terminal');
});

test('ssh target lookup errors are one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['ssh', 'everywhere.service'], /^Unable to proceed: everywhere\.service is a global unit/],
    [['ssh', 'zzzz'], /^Unable to proceed: could not find a matching unit or machine for zzzz/],
    [['ssh', '-m', '-u', 'solo.service'], /^Unable to proceed: --machine and --unit exclude each other/],
  ];
  for (const [args, want] of cases) {
    const r = await flotctl(env, args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, want);
    line(r.stderr);
  }
});

test('every refused SSH connection is one line naming the fix, exit 255', async () => {
  const known = await readFile(env.FLOTCTL_KNOWN_HOSTS_FILE as string, 'utf8');
  const tampered = join(work, 'known_hosts.tampered');
  // Every host listed with some other ed25519 key: each host's real key has "changed".
  const impostor = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
  await writeFile(tampered, known.split('\n').filter(Boolean).map((l) => `${l.split(' ')[0]} ${impostor}\n`).join(''));
  // Every host listed with an ECDSA key only: each host's sshd has only ed25519, so it offers a type
  // known_hosts does not list for it. That is a changed key (refused), not a new host to trust.
  const otherType = join(work, 'known_hosts.other-type');
  const ecdsa = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }).public.split(' ').slice(0, 2).join(' ');
  await writeFile(otherType, known.split('\n').filter(Boolean).map((l) => `${l.split(' ')[0]} ${ecdsa}\n`).join(''));
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [{ FLOTCTL_KNOWN_HOSTS_FILE: join(work, 'none') }, ['status', 'solo.service'], /is not in .*none; add its key/],
    [{ FLOTCTL_KNOWN_HOSTS_FILE: tampered }, ['status', 'solo.service'], /host key verification failed: the key of .* differs from line \d+/],
    [{ FLOTCTL_KNOWN_HOSTS_FILE: otherType }, ['status', 'solo.service'], /host key verification failed: \S+ offered a ssh-ed25519 key .* but line \d+ of .* lists its ecdsa-sha2-nistp256 key; .*ssh-keygen -R/],
    // An empty variable is unset, not false: checking stays on.
    [{ FLOTCTL_KNOWN_HOSTS_FILE: join(work, 'none'), FLOTCTL_STRICT_HOST_KEY_CHECKING: '' }, ['status', 'solo.service'], /is not in .*none; add its key/],
    [{ FLOTCTL_SSH_IDENTITY: '' }, ['status', 'solo.service'], /^no SSH credentials: start ssh-agent/],
    [{ FLOTCTL_SSH_IDENTITY: join(work, 'solo.service') }, ['status', 'solo.service'], /SSH identity .* cannot be used/],
    [{}, ['status', '--ssh-port', '1', 'solo.service'], /connection to 127\.[0-9.]+:1 refused/],
    // sshd refuses "nobody" the key: the hosts' AuthorizedKeysFile is root's (0600), not nobody's.
    [{ FLOTCTL_SSH_USERNAME: 'nobody' }, ['status', 'solo.service'], /refused the key for user nobody/],
  ];
  for (const [extra, args, want] of cases) {
    const r = await flotctl({ ...env, ...extra }, args);
    assert.equal(r.code, 255, `${JSON.stringify(extra)} ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    line(r.stderr);
  }
  // A global unit's status: a machine that refuses gets its line, the others still answer.
  const [firstLine, ...rest] = known.split('\n').filter(Boolean);
  const oneBad = join(work, 'known_hosts.one-bad');
  await writeFile(oneBad, [`${firstLine?.split(' ')[0]} ${impostor}`, ...rest].map((l) => `${l}\n`).join(''));
  const partial = await flotctl({ ...env, FLOTCTL_KNOWN_HOSTS_FILE: oneBad }, ['status', 'everywhere.service']);
  assert.equal(partial.code, 255);
  assert.equal(partial.stdout.split(/^Machine /m).length - 1, 3);
  assert.equal((partial.stdout.match(/Main PID: \d+/g) ?? []).length, 2, partial.stdout);
  line(partial.stderr);

  const bad = await flotctl({ ...env, FLOTCTL_SSH_TIMEOUT: 'soon' }, ['status', 'solo.service']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid FLOTCTL_SSH_TIMEOUT "soon"/);
  line(bad.stderr);
});

test("--strict-host-key-checking=false skips known_hosts, as fleetctl's flag does", async () => {
  const r = await flotctl({ ...env, FLOTCTL_KNOWN_HOSTS_FILE: join(work, 'none') }, ['--strict-host-key-checking', 'false', 'status', 'solo.service']);
  assert.equal(r.code, 0, r.stderr);
});

test('--tunnel reaches the host through another host as bastion', async () => {
  const bastion = cluster.hosts[0];
  assert.ok(bastion?.sshPort);
  const r = await flotctl(env, ['--tunnel', `${bastion.publicIP}:${bastion.sshPort}`, 'status', 'everywhere.service']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split(/^Machine /m).length - 1, 3);
  // A tunnel that leads nowhere must fail: proof the connection really goes through it.
  const dead = await flotctl(env, ['--tunnel', `${bastion.publicIP}:1`, 'status', 'solo.service']);
  assert.equal(dead.code, 255);
  assert.match(dead.stderr, /:1 refused/);
});
