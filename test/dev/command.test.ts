import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../../src/dev/cluster.js';
import { loadState } from '../../src/dev/cluster-dir.js';
import { liveProcsMentioning } from './leftovers.js';

const CLI = fileURLToPath(new URL('./fixtures/dev-cli.js', import.meta.url));
let dir = '';
const clusterDirs: string[] = [];

function dev(args: string[], opts: { signalWhen?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOTILLA_DEV_CLI_FIXTURE: '1' } });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (opts.signalWhen && !signalled && opts.signalWhen.test(stdout)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

after(async () => {
  for (const d of clusterDirs) {
    if (await loadState(d)) await (await LocalCluster.attach(d)).down().catch((err: unknown) => console.error(err));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('dev --detach, a second dev in the same dir, dev --down', async () => {
  dir = await mkdtemp('/tmp/fl-');
  const d = join(dir, 'c');
  clusterDirs.push(d);
  const up = await dev(['--hosts', '2', '--dir', d, '--detach', '--ttl', '5']);
  assert.equal(up.code, 0, up.stderr);
  // The API driver (the default) first; etcd's variables after, commented out.
  assert.match(up.stdout, /^export FLOTCTL_DRIVER=api\nexport FLOTCTL_ENDPOINT=unix:\/\/\S+\/host1\/api\.sock$/m);
  assert.match(up.stdout, /^# export FLOTCTL_DRIVER=etcd$/m);
  assert.match(up.stdout, /^# export FLOTCTL_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(up.stdout, /^# export FLOTCTL_ETCD_KEY_PREFIX=\/flotilla\/$/m);
  assert.match(up.stdout, new RegExp(`^host1 [0-9a-f]{32} 127\\.0\\.1\\.1  DBUS_SESSION_BUS_ADDRESS=unix:path=${d}/host1/run/bus XDG_RUNTIME_DIR=${d}/host1/rt systemctl --user`, 'm'));
  assert.match(up.stdout, /^host2 [0-9a-f]{32} 127\.0\.1\.2 /m);

  const again = await dev(['--hosts', '1', '--dir', d, '--detach']);
  assert.notEqual(again.code, 0);
  const errLines = again.stderr.trim().split('\n').filter((l) => !/^\S+Z (INFO|DEBUG)/.test(l));
  assert.equal(errLines.length, 1, again.stderr);
  assert.match(errLines[0] as string, /already running/);

  const down = await dev(['--down', '--dir', d]);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await liveProcsMentioning([d]), []);
  assert.equal(await loadState(d), undefined);
});

test('dev --secure prints the FLOTCTL_ variables a secured etcd needs; pasted into a shell they work', async () => {
  const d = join(dir, 's');
  clusterDirs.push(d);
  const up = await dev(['--hosts', '1', '--dir', d, '--detach', '--secure', '--ttl', '5']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^# export FLOTCTL_ENDPOINT=https:\/\/127\.0\.0\.1:\d+,https:\/\/127\.0\.0\.1:\d+,https:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(up.stdout, new RegExp(`^# export FLOTCTL_CA_FILE=${d}/tls/ca\\.pem$`, 'm'));
  assert.match(up.stdout, new RegExp(`^# export FLOTCTL_CERT_FILE=${d}/tls/client\\.pem$`, 'm'));
  assert.match(up.stdout, new RegExp(`^# export FLOTCTL_KEY_FILE=${d}/tls/client-key\\.pem$`, 'm'));
  assert.match(up.stdout, /^# export FLOTCTL_USERNAME=flotilla$/m);
  // The password stays in its file, out of the terminal.
  assert.match(up.stdout, new RegExp(`^# export FLOTCTL_PASSWORD="\\$\\(cat ${d}/tls/flotilla\\.password\\)"$`, 'm'));
  const password = (await readFile(join(d, 'tls', 'flotilla.password'), 'utf8')).trim();
  assert.ok(!up.stdout.includes(password) && !up.stderr.includes(password), 'the password was printed');
  assert.equal((await stat(join(d, 'tls', 'flotilla.password'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(d, 'host1', 'flotillad.conf'))).mode & 0o777, 0o600);
  const flotctl = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  // Both blocks work pasted: the API driver's, and etcd's uncommented.
  const lines = up.stdout.split('\n');
  for (const exports of [lines.filter((l) => l.startsWith('export FLOTCTL_')).join('\n'), lines.filter((l) => l.startsWith('# export FLOTCTL_')).map((l) => l.slice(2)).join('\n')]) {
    const sh = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', ['-c', `${exports}\n"${process.execPath}" "${flotctl}" list-machines --no-legend`], { env: { PATH: process.env.PATH ?? '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (x: string) => { stdout += x; });
      child.stderr.setEncoding('utf8').on('data', (x: string) => { stderr += x; });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(sh.code, 0, sh.stderr);
    assert.equal(sh.stdout.trim().split('\n').length, 1, sh.stdout);
  }
  const down = await dev(['--down', '--dir', d]);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await liveProcsMentioning([d]), []);
});

test('dev in the foreground tears down on SIGINT and exits 0', async () => {
  const d = join(dir, 'f');
  clusterDirs.push(d);
  const r = await dev(['--hosts', '1', '--dir', d, '--ttl', '5'], { signalWhen: /Ctrl-C stops the cluster/ });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stopped/);
  assert.deepEqual(await liveProcsMentioning([d]), []);
  assert.equal(await loadState(d), undefined);
});

test('bad input: one line, non-zero exit, no stack', async () => {
  const r = await dev(['--dir', '/etc']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
